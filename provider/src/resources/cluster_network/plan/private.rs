//! Private clusters: what the AWS guide requires in the cluster's VPC when the cluster's
//! endpoint is private only, audited and never created. Interface endpoints `eks`,
//! `eks-auth`, `ecr.api`, `ecr.dkr` and `sts`, each with private DNS on, in at least two
//! Availability Zones, whose security groups allow TCP 443 from the remote node and pod
//! CIDRs; `ssm` and `ssmmessages` (SSM hybrid activations) and `rolesanywhere` (IAM Roles
//! Anywhere) the same way for the nodes' credential provider (`node_credential_provider`).
//! Without that argument both providers' endpoints are audited and what they lack is one
//! plan warning that asks for the argument (the data source lists each, "needed if").
//! A cluster with public and private access both on gets a warning instead (hybrid nodes
//! resolve its public addresses). DNS support and hostnames stay errors of
//! `context::check_cluster`.
//!
//! [`audit`] and [`access_finding`] are pure; [`check`] (plan warnings) and [`missing`]
//! (the data source's `missing`) read AWS only for a private-only cluster: one
//! DescribeVpcEndpoints, then one DescribeSubnets and one DescribeSecurityGroupRules
//! for all the endpoints at once (each skipped when there is nothing to ask).

use std::collections::BTreeSet;

use hybridnet_rules::{Ipv4Net, NodeCredentialProvider};
use tfplugin5::{AttrPath, Diagnostics};

use super::context::ClusterContext;
use crate::aws::ec2::SgRule;
use crate::aws::endpoints::{self, VpcEndpoint};
use crate::aws::{ec2, eks::Cluster, AwsError, Clients};

/// An interface endpoint the guide asks for.
struct Required {
    service: &'static str,
    /// What hybrid nodes use it for.
    purpose: &'static str,
    /// The credential provider it is needed for; `None`: always.
    only_for: Option<NodeCredentialProvider>,
}

const REQUIRED: [Required; 8] = [
    Required { service: "eks", purpose: "the EKS API (nodeadm reads the cluster)", only_for: None },
    Required { service: "eks-auth", purpose: "EKS Pod Identity credentials", only_for: None },
    Required { service: "ecr.api", purpose: "the Amazon ECR API (image pulls)", only_for: None },
    Required { service: "ecr.dkr", purpose: "the Amazon ECR registry (image pulls)", only_for: None },
    Required { service: "sts", purpose: "AWS STS (IAM credentials, IRSA)", only_for: None },
    Required {
        service: "ssm",
        purpose: "AWS Systems Manager (credential refresh, heartbeats)",
        only_for: Some(NodeCredentialProvider::Ssm),
    },
    Required {
        service: "ssmmessages",
        purpose: "Systems Manager messages",
        only_for: Some(NodeCredentialProvider::Ssm),
    },
    Required {
        service: "rolesanywhere",
        purpose: "IAM Roles Anywhere (credential refresh)",
        only_for: Some(NodeCredentialProvider::IamRa),
    },
];

/// One thing the guide requires and the VPC lacks (or, for [`access_finding`], a
/// configuration it warns about).
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The entry of the data source's `missing`; `None` for what is not an absence.
    pub missing: Option<String>,
    /// The plan warning: summaries differ per endpoint and problem (Terraform merges
    /// warnings with one summary on one attribute into one).
    pub summary: String,
    /// What is wrong and how to fix it.
    pub detail: String,
    /// The credential provider it concerns, when `node_credential_provider` is not set
    /// (the plan merges these into one warning that asks for the argument).
    pub undecided: Option<NodeCredentialProvider>,
}

/// What the audit reads from AWS.
#[derive(Clone, Copy, Debug)]
pub struct Surroundings<'a> {
    pub region: &'a str,
    pub vpc_id: &'a str,
    pub cluster_name: &'a str,
    /// The remote node and pod CIDRs: each needs TCP 443 to every endpoint.
    pub sources: &'a [Ipv4Net],
    /// The VPC's endpoints (any kind, any state: the audit selects).
    pub endpoints: &'a [VpcEndpoint],
    /// The endpoints' subnets (for their Availability Zones).
    pub subnets: &'a [ec2::Subnet],
    /// Inbound rules of the endpoints' security groups.
    pub rules: &'a [SgRule],
    /// `node_credential_provider`: which credential endpoints are needed (`None`: both
    /// are audited, as undecided).
    pub credential_provider: Option<NodeCredentialProvider>,
}

/// The service of an endpoint service name in `region` (`com.amazonaws.<region>.<service>`,
/// or `cn.com.amazonaws.` in the China regions).
fn service_of<'a>(service_name: &'a str, region: &str) -> Option<&'a str> {
    let rest =
        service_name.strip_prefix("com.amazonaws.").or_else(|| service_name.strip_prefix("cn.com.amazonaws."))?;
    rest.strip_prefix(region)?.strip_prefix('.')
}

/// The endpoints the audit looks at: live interface endpoints of a required service.
fn relevant<'a>(endpoints: &'a [VpcEndpoint], region: &'a str) -> impl Iterator<Item = &'a VpcEndpoint> + 'a {
    endpoints.iter().filter(move |e| {
        e.live()
            && e.interface
            && service_of(&e.service_name, region).is_some_and(|s| REQUIRED.iter().any(|r| r.service == s))
    })
}

/// Whether an inbound rule admits TCP 443.
fn admits_https(r: &SgRule) -> bool {
    r.protocol == "-1" || (matches!(r.protocol.as_str(), "tcp" | "6") && r.from_port <= 443 && 443 <= r.to_port)
}

/// The sources no TCP 443 rule of `groups` covers (several rules may cover one source
/// together: two /17 rules cover a /16).
fn uncovered(sources: &[Ipv4Net], groups: &[String], rules: &[SgRule]) -> Vec<Ipv4Net> {
    let admitted: Vec<Ipv4Net> = rules
        .iter()
        .filter(|r| !r.egress && groups.contains(&r.group_id) && admits_https(r))
        .filter_map(|r| r.cidr.as_deref()?.parse().ok())
        .collect();
    let merged = Ipv4Net::aggregate(&admitted);
    sources.iter().filter(|s| !merged.iter().any(|m| m.contains(*s))).copied().collect()
}

enum Problem {
    PrivateDnsOff,
    /// The zones it has subnets in (fewer than two).
    Zones(Vec<String>),
    /// The sources its security groups do not admit.
    Https(Vec<Ipv4Net>),
}

fn problems(e: &VpcEndpoint, s: &Surroundings) -> Vec<Problem> {
    let mut out = Vec::new();
    if !e.private_dns {
        out.push(Problem::PrivateDnsOff);
    }
    let zones: BTreeSet<&str> = s
        .subnets
        .iter()
        .filter(|sub| e.subnet_ids.contains(&sub.id) && !sub.availability_zone.is_empty())
        .map(|sub| sub.availability_zone.as_str())
        .collect();
    if zones.len() < 2 {
        out.push(Problem::Zones(zones.into_iter().map(str::to_string).collect()));
    }
    let open = uncovered(s.sources, &e.security_group_ids, s.rules);
    if !open.is_empty() {
        out.push(Problem::Https(open));
    }
    out
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

/// Each required endpoint the VPC lacks, and each problem of the best endpoint present
/// for a service (the one with the fewest problems). Pure.
pub fn audit(s: &Surroundings) -> Vec<Finding> {
    let cidrs = join(s.sources);
    let mut out = Vec::new();
    for req in &REQUIRED {
        let service = req.service;
        let name = format!("com.amazonaws.{}.{service}", s.region);
        // For a credential provider's endpoint: whether the nodes' provider is known,
        // and if so that it is this one (the other's endpoints are not needed).
        let (when, chosen, undecided) = match (req.only_for, s.credential_provider) {
            (None, _) => (String::new(), String::new(), None),
            (Some(p), Some(c)) if p != c => continue,
            (Some(p), Some(_)) => {
                (String::new(), format!(" (node_credential_provider = {:?}: {})", p.as_str(), p.title()), None)
            }
            (Some(p), None) => (format!(" (needed if the hybrid nodes use {})", p.title()), String::new(), Some(p)),
        };
        let context = format!(
            "EKS cluster {} is reachable only through its private endpoint, so hybrid nodes reach {}{chosen} through \
             an interface VPC endpoint {name} in VPC {}",
            s.cluster_name, req.purpose, s.vpc_id
        );
        let candidates: Vec<(&VpcEndpoint, Vec<Problem>)> = relevant(s.endpoints, s.region)
            .filter(|e| service_of(&e.service_name, s.region) == Some(service))
            .map(|e| (e, problems(e, s)))
            .collect();
        let Some((e, found)) = candidates.into_iter().min_by_key(|(_, p)| p.len()) else {
            out.push(Finding {
                missing: Some(format!("interface VPC endpoint {name} in VPC {}{when}", s.vpc_id)),
                undecided,
                summary: format!("Private cluster: no {service} VPC endpoint{when}"),
                detail: format!(
                    "{context}, and there is none. Create one with private DNS on, in subnets of at least two \
                     Availability Zones, with a security group allowing TCP 443 from {cidrs}: `aws ec2 \
                     create-vpc-endpoint --vpc-endpoint-type Interface --vpc-id {} --service-name {name} \
                     --private-dns-enabled --subnet-ids <subnets in two zones> --security-group-ids <group>`. This \
                     resource audits the endpoints and does not create them.",
                    s.vpc_id
                ),
            });
            continue;
        };
        let id = &e.id;
        for p in found {
            out.push(match p {
                Problem::PrivateDnsOff => Finding {
                    undecided,
                    missing: Some(format!("interface VPC endpoint {id} ({name}): private DNS is off{when}")),
                    summary: format!("Private cluster: {service} VPC endpoint has private DNS off{when}"),
                    detail: format!(
                        "{context}. Endpoint {id} has private DNS off, so the service's public name does not resolve \
                         to it. Turn it on: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id {id} \
                         --private-dns-enabled`."
                    ),
                },
                Problem::Zones(zones) => {
                    let zones_text = if zones.is_empty() { "none".to_string() } else { join(&zones) };
                    Finding {
                        undecided,
                        missing: Some(format!(
                            "interface VPC endpoint {id} ({name}): a subnet in a second Availability Zone (it has \
                             subnets in {zones_text}){when}"
                        )),
                        summary: format!("Private cluster: {service} VPC endpoint in fewer than two zones{when}"),
                        detail: format!(
                            "{context}. Endpoint {id} has subnets in {} Availability Zone(s) ({zones_text}); the guide \
                             asks for at least two. Add a subnet of another zone: `aws ec2 modify-vpc-endpoint \
                             --vpc-endpoint-id {id} --add-subnet-ids <subnet>`.",
                            zones.len()
                        ),
                    }
                }
                Problem::Https(open) => {
                    let groups =
                        if e.security_group_ids.is_empty() { "none".to_string() } else { join(&e.security_group_ids) };
                    let group = e.security_group_ids.first().map_or("<group>", String::as_str);
                    let ranges = open.iter().map(|c| format!("{{\"CidrIp\":\"{c}\"}}")).collect::<Vec<_>>().join(",");
                    Finding {
                        undecided,
                        missing: Some(format!(
                            "interface VPC endpoint {id} ({name}): a security group rule allowing TCP 443 from {} \
                             (its security groups: {groups}){when}",
                            join(&open)
                        )),
                        summary: format!("Private cluster: {service} VPC endpoint does not admit TCP 443{when}"),
                        detail: format!(
                            "{context}. No inbound rule of endpoint {id}'s security groups ({groups}) allows TCP 443 \
                             from {}, which hybrid nodes and pods connect from (only IPv4 CIDR rules count, several \
                             together may cover a CIDR). Allow it: `aws ec2 authorize-security-group-ingress \
                             --group-id {group} --ip-permissions \
                             '[{{\"IpProtocol\":\"tcp\",\"FromPort\":443,\"ToPort\":443,\"IpRanges\":[{ranges}]}}]'`.",
                            join(&open)
                        ),
                    }
                }
            });
        }
    }
    out
}

/// Public and private access both on: hybrid nodes resolve the public addresses. Pure.
pub fn access_finding(cluster: &Cluster) -> Option<Finding> {
    if !(cluster.endpoint_public_access && cluster.endpoint_private_access) {
        return None;
    }
    let name = &cluster.name;
    Some(Finding {
        missing: None,
        undecided: None,
        summary: "Cluster endpoint is both public and private".into(),
        detail: format!(
            "EKS cluster {name} has public and private endpoint access on. Outside the VPC its API server name \
             resolves to the public addresses, so hybrid nodes reach the Kubernetes API over the internet, not over \
             the VPN or Direct Connect link to the VPC. Either let the hybrid nodes reach the public endpoint, or \
             make the endpoint private only (`aws eks update-cluster-config --name {name} --resources-vpc-config \
             endpointPublicAccess=false,endpointPrivateAccess=true`) and give the VPC the interface endpoints a \
             private cluster needs (the next plan names any that are missing)."
        ),
    })
}

/// The findings of both credential providers' endpoints while `node_credential_provider`
/// is not set, as one warning: it names both choices, the argument and what each lacks.
/// `None` when they lack nothing. Pure.
pub fn undecided_finding(cluster_name: &str, vpc_id: &str, findings: &[Finding]) -> Option<Finding> {
    if findings.is_empty() {
        return None;
    }
    let choices: Vec<String> = NodeCredentialProvider::ALL
        .iter()
        .map(|p| {
            let services = p.endpoint_services();
            let verb = if services.len() > 1 { "need" } else { "needs" };
            format!("{} (node_credential_provider = {:?}) {verb} {}", p.title(), p.as_str(), services.join(" and "))
        })
        .collect();
    let lacking: Vec<&str> = findings.iter().filter_map(|f| f.missing.as_deref()).collect();
    Some(Finding {
        missing: None,
        undecided: None,
        summary: "Private cluster: node_credential_provider not set".into(),
        detail: format!(
            "EKS cluster {cluster_name} is reachable only through its private endpoint, so hybrid nodes refresh their \
             AWS credentials through interface VPC endpoints in VPC {vpc_id}, which ones depending on nodeadm's \
             credential provider: {}. The VPC lacks: {}. Set node_credential_provider to the credential provider of \
             the nodes' nodeadm configuration: the plan then checks only its endpoints and says how to add what is \
             missing.",
            choices.join(", "),
            lacking.join("; ")
        ),
    })
}

/// The remote node and pod CIDRs, each once.
fn sources(nodes: &[Ipv4Net], pods: &[Ipv4Net]) -> Vec<Ipv4Net> {
    let mut out: Vec<Ipv4Net> = Vec::new();
    for n in nodes.iter().chain(pods) {
        if !out.contains(n) {
            out.push(*n);
        }
    }
    out
}

/// The endpoint findings of a private-only cluster; no request at all for any other.
pub async fn endpoint_findings(
    clients: &Clients,
    cluster: &Cluster,
    vpc_id: &str,
    nodes: &[Ipv4Net],
    pods: &[Ipv4Net],
    credential_provider: Option<NodeCredentialProvider>,
) -> Result<Vec<Finding>, AwsError> {
    if !cluster.private_only() {
        return Ok(Vec::new());
    }
    let all = endpoints::find_vpc_endpoints(&*clients.ec2, vpc_id).await?;
    let mut subnet_ids = BTreeSet::new();
    let mut group_ids = BTreeSet::new();
    for e in relevant(&all, &clients.region) {
        subnet_ids.extend(e.subnet_ids.iter().cloned());
        group_ids.extend(e.security_group_ids.iter().cloned());
    }
    let (subnet_ids, group_ids): (Vec<String>, Vec<String>) =
        (subnet_ids.into_iter().collect(), group_ids.into_iter().collect());
    let (subnets, rules) = tokio::join!(
        ec2::find_subnets(&*clients.ec2, &subnet_ids),
        ec2::find_rules_of_groups(&*clients.ec2, &group_ids),
    );
    let (subnets, rules) = (subnets?, rules?);
    let sources = sources(nodes, pods);
    Ok(audit(&Surroundings {
        region: &clients.region,
        vpc_id,
        cluster_name: &cluster.name,
        sources: &sources,
        endpoints: &all,
        subnets: &subnets,
        rules: &rules,
        credential_provider,
    }))
}

/// A failed read of the audit is a warning: the audit did not run, the plan still can.
fn not_checked(clients: &Clients, err: AwsError, diags: &mut Diagnostics) {
    let (summary, detail) = clients.explain(err).summary_and_detail();
    diags.warning(
        summary,
        format!("{detail} The VPC endpoints a private cluster needs were not checked."),
        Some(AttrPath::attr("cluster_name")),
    );
}

/// The plan warnings, on `cluster_name`: public and private access both on, and each
/// finding of a private-only cluster, those of an undecided credential provider as one
/// (on `node_credential_provider`, the argument that decides).
async fn warnings(
    clients: &Clients,
    cluster: &Cluster,
    vpc_id: &str,
    nodes: &[Ipv4Net],
    pods: &[Ipv4Net],
    credential_provider: Option<NodeCredentialProvider>,
    diags: &mut Diagnostics,
) {
    let findings = match endpoint_findings(clients, cluster, vpc_id, nodes, pods, credential_provider).await {
        Ok(f) => f,
        Err(e) => return not_checked(clients, e, diags),
    };
    let (undecided, decided): (Vec<Finding>, Vec<Finding>) = findings.into_iter().partition(|f| f.undecided.is_some());
    for f in access_finding(cluster).into_iter().chain(decided) {
        diags.warning(f.summary, f.detail, Some(AttrPath::attr("cluster_name")));
    }
    if let Some(f) = undecided_finding(&cluster.name, vpc_id, &undecided) {
        diags.warning(f.summary, f.detail, Some(AttrPath::attr("node_credential_provider")));
    }
}

/// Plan: see [`warnings`].
pub async fn check(
    clients: &Clients,
    ctx: &ClusterContext,
    nodes: &[Ipv4Net],
    pods: &[Ipv4Net],
    credential_provider: Option<NodeCredentialProvider>,
    diags: &mut Diagnostics,
) {
    warnings(clients, &ctx.cluster, &ctx.vpc.id, nodes, pods, credential_provider, diags).await;
}

/// The data source: the `missing` entries of a private-only cluster (empty for any other).
pub async fn missing(
    clients: &Clients,
    ctx: &ClusterContext,
    nodes: &[Ipv4Net],
    pods: &[Ipv4Net],
    credential_provider: Option<NodeCredentialProvider>,
    diags: &mut Diagnostics,
) -> Vec<String> {
    match endpoint_findings(clients, &ctx.cluster, &ctx.vpc.id, nodes, pods, credential_provider).await {
        Ok(f) => f.into_iter().filter_map(|f| f.missing).collect(),
        Err(e) => {
            not_checked(clients, e, diags);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGION: &str = "us-east-1";
    const NODES: &str = "192.168.0.0/22";
    const PODS: &str = "172.16.0.0/16";

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("test CIDR")
    }

    fn endpoint(service: &str) -> VpcEndpoint {
        VpcEndpoint {
            id: format!("vpce-{}", service.replace('.', "-")),
            service_name: format!("com.amazonaws.{REGION}.{service}"),
            interface: true,
            state: "available".into(),
            private_dns: true,
            subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
            security_group_ids: vec!["sg-endpoints".into()],
        }
    }

    fn rule(group: &str, protocol: &str, from: i32, to: i32, cidr: &str) -> SgRule {
        SgRule {
            group_id: group.into(),
            protocol: protocol.into(),
            from_port: from,
            to_port: to,
            cidr: Some(cidr.into()),
            ..SgRule::default()
        }
    }

    struct World {
        sources: Vec<Ipv4Net>,
        endpoints: Vec<VpcEndpoint>,
        subnets: Vec<ec2::Subnet>,
        rules: Vec<SgRule>,
        credential_provider: Option<NodeCredentialProvider>,
    }

    impl World {
        /// Every endpoint, each correct.
        fn complete() -> World {
            let subnet = |id: &str, az: &str| ec2::Subnet {
                id: id.into(),
                vpc_id: "vpc-1".into(),
                availability_zone: az.into(),
            };
            World {
                sources: vec![net(NODES), net(PODS)],
                endpoints: REQUIRED.iter().map(|r| endpoint(r.service)).collect(),
                subnets: vec![
                    subnet("subnet-a", "us-east-1a"),
                    subnet("subnet-b", "us-east-1b"),
                    subnet("subnet-a2", "us-east-1a"),
                ],
                rules: vec![rule("sg-endpoints", "tcp", 443, 443, NODES), rule("sg-endpoints", "tcp", 443, 443, PODS)],
                credential_provider: None,
            }
        }

        fn endpoint(&mut self, service: &str) -> &mut VpcEndpoint {
            let name = format!("com.amazonaws.{REGION}.{service}");
            self.endpoints.iter_mut().find(|e| e.service_name == name).expect("seeded endpoint")
        }

        fn without(mut self, service: &str) -> World {
            let name = format!("com.amazonaws.{REGION}.{service}");
            self.endpoints.retain(|e| e.service_name != name);
            self
        }

        fn audit(&self) -> Vec<Finding> {
            audit(&Surroundings {
                region: REGION,
                vpc_id: "vpc-1",
                cluster_name: "edge",
                sources: &self.sources,
                endpoints: &self.endpoints,
                subnets: &self.subnets,
                rules: &self.rules,
                credential_provider: self.credential_provider,
            })
        }
    }

    fn missing(findings: &[Finding]) -> Vec<String> {
        findings.iter().filter_map(|f| f.missing.clone()).collect()
    }

    #[test]
    fn every_endpoint_present_and_correct_finds_nothing() {
        assert_eq!(World::complete().audit(), []);
    }

    #[test]
    fn one_absent_endpoint_is_named_exactly() {
        let found = World::complete().without("ecr.dkr").audit();
        assert_eq!(missing(&found), ["interface VPC endpoint com.amazonaws.us-east-1.ecr.dkr in VPC vpc-1"]);
        let f = &found[0];
        assert_eq!(f.summary, "Private cluster: no ecr.dkr VPC endpoint");
        assert!(
            f.detail.contains("create-vpc-endpoint")
                && f.detail.contains("--service-name com.amazonaws.us-east-1.ecr.dkr"),
            "{}",
            f.detail
        );
        assert!(f.detail.contains("192.168.0.0/22, 172.16.0.0/16"), "{}", f.detail);
        assert!(f.detail.contains("does not create them"), "{}", f.detail);
        assert!(!f.detail.contains("cannot tell"), "{}", f.detail);
    }

    #[test]
    fn without_a_credential_provider_both_are_audited_as_undecided() {
        let found = World::complete().without("ssm").without("rolesanywhere").audit();
        assert_eq!(
            missing(&found),
            [
                "interface VPC endpoint com.amazonaws.us-east-1.ssm in VPC vpc-1 (needed if the hybrid nodes use SSM \
                 hybrid activations)",
                "interface VPC endpoint com.amazonaws.us-east-1.rolesanywhere in VPC vpc-1 (needed if the hybrid \
                 nodes use IAM Roles Anywhere)",
            ]
        );
        let undecided: Vec<_> = found.iter().map(|f| f.undecided).collect();
        assert_eq!(undecided, [Some(NodeCredentialProvider::Ssm), Some(NodeCredentialProvider::IamRa)]);
        // The plan's one warning names both choices, the argument and each absence.
        let w = undecided_finding("edge", "vpc-1", &found).expect("one warning");
        assert_eq!(w.summary, "Private cluster: node_credential_provider not set");
        assert_eq!((w.missing, w.undecided), (None, None));
        for part in [
            "SSM hybrid activations (node_credential_provider = \"ssm\") need ssm and ssmmessages",
            "IAM Roles Anywhere (node_credential_provider = \"iam-ra\") needs rolesanywhere",
            "The VPC lacks: interface VPC endpoint com.amazonaws.us-east-1.ssm in VPC vpc-1 (needed if the hybrid \
             nodes use SSM hybrid activations); interface VPC endpoint com.amazonaws.us-east-1.rolesanywhere",
            "Set node_credential_provider to the credential provider of the nodes' nodeadm configuration",
        ] {
            assert!(w.detail.contains(part), "{part}\n{}", w.detail);
        }
        assert!(w.detail.is_ascii() && !w.detail.contains("  "), "{}", w.detail);
        // Every endpoint in place: nothing to decide, no warning.
        assert_eq!(undecided_finding("edge", "vpc-1", &World::complete().audit()), None);
    }

    #[test]
    fn a_credential_provider_needs_exactly_its_endpoints() {
        let mut w = World::complete().without("ssm").without("ssmmessages").without("rolesanywhere");
        w.credential_provider = Some(NodeCredentialProvider::IamRa);
        let found = w.audit();
        assert_eq!(missing(&found), ["interface VPC endpoint com.amazonaws.us-east-1.rolesanywhere in VPC vpc-1"]);
        let f = &found[0];
        assert_eq!((f.summary.as_str(), f.undecided), ("Private cluster: no rolesanywhere VPC endpoint", None));
        assert!(
            f.detail.contains(
                "IAM Roles Anywhere (credential refresh) (node_credential_provider = \"iam-ra\": \
                                   IAM Roles Anywhere) through an interface VPC endpoint"
            ),
            "{}",
            f.detail
        );

        w.credential_provider = Some(NodeCredentialProvider::Ssm);
        let found = w.audit();
        assert_eq!(
            missing(&found),
            [
                "interface VPC endpoint com.amazonaws.us-east-1.ssm in VPC vpc-1",
                "interface VPC endpoint com.amazonaws.us-east-1.ssmmessages in VPC vpc-1",
            ]
        );
        assert!(found.iter().all(|f| f.undecided.is_none()));
        // With its endpoints in place, the other provider's absence is no finding.
        let mut w = World::complete().without("rolesanywhere");
        w.credential_provider = Some(NodeCredentialProvider::Ssm);
        assert_eq!(w.audit(), []);
        let mut w = World::complete().without("ssm").without("ssmmessages");
        w.credential_provider = Some(NodeCredentialProvider::IamRa);
        assert_eq!(w.audit(), []);
    }

    #[test]
    fn the_credential_endpoints_are_the_providers_own() {
        for p in NodeCredentialProvider::ALL {
            let ours: Vec<&str> = REQUIRED.iter().filter(|r| r.only_for == Some(p)).map(|r| r.service).collect();
            assert_eq!(ours, p.endpoint_services(), "{p}");
        }
    }

    #[test]
    fn private_dns_off_is_named() {
        let mut w = World::complete();
        w.endpoint("sts").private_dns = false;
        let found = w.audit();
        assert_eq!(
            missing(&found),
            ["interface VPC endpoint vpce-sts (com.amazonaws.us-east-1.sts): private DNS is off"]
        );
        assert!(found[0].detail.contains("modify-vpc-endpoint --vpc-endpoint-id vpce-sts --private-dns-enabled"));
    }

    #[test]
    fn one_zone_is_named_with_its_zone() {
        let mut w = World::complete();
        w.endpoint("eks-auth").subnet_ids = vec!["subnet-a".into(), "subnet-a2".into()];
        w.endpoint("eks").subnet_ids = vec!["subnet-gone".into()];
        let found = w.audit();
        assert_eq!(
            missing(&found),
            [
                "interface VPC endpoint vpce-eks (com.amazonaws.us-east-1.eks): a subnet in a second Availability \
                 Zone (it has subnets in none)",
                "interface VPC endpoint vpce-eks-auth (com.amazonaws.us-east-1.eks-auth): a subnet in a second \
                 Availability Zone (it has subnets in us-east-1a)",
            ]
        );
        assert_eq!(found[1].summary, "Private cluster: eks-auth VPC endpoint in fewer than two zones");
    }

    #[test]
    fn a_remote_cidr_without_443_is_named() {
        let mut w = World::complete();
        w.endpoint("ecr.api").security_group_ids = vec!["sg-api".into()];
        w.rules.push(rule("sg-api", "tcp", 443, 443, NODES));
        w.rules.push(rule("sg-api", "udp", 443, 443, PODS));
        w.rules.push(rule("sg-api", "tcp", 80, 80, PODS));
        let found = w.audit();
        assert_eq!(
            missing(&found),
            ["interface VPC endpoint vpce-ecr-api (com.amazonaws.us-east-1.ecr.api): a security group rule \
                 allowing TCP 443 from 172.16.0.0/16 (its security groups: sg-api)"]
        );
        let d = &found[0].detail;
        assert!(d.contains("--group-id sg-api") && d.contains(r#"[{"CidrIp":"172.16.0.0/16"}]"#), "{d}");
    }

    #[test]
    fn broader_and_combined_rules_admit() {
        let mut w = World::complete();
        w.rules = vec![
            rule("sg-endpoints", "-1", -1, -1, "192.168.0.0/16"),
            rule("sg-endpoints", "tcp", 0, 65535, "172.16.0.0/17"),
            rule("sg-endpoints", "6", 443, 443, "172.16.128.0/17"),
        ];
        assert_eq!(w.audit(), []);
        // A rule of a group the endpoint does not use counts for nothing.
        w.rules = vec![rule("sg-other", "tcp", 443, 443, "0.0.0.0/0")];
        let found = w.audit();
        assert_eq!(found.len(), REQUIRED.len());
        assert!(found
            .iter()
            .all(|f| f.missing.as_deref().is_some_and(|m| m.contains("192.168.0.0/22, 172.16.0.0/16"))));
        // Half a /16 is not the /16.
        w.rules =
            vec![rule("sg-endpoints", "tcp", 443, 443, NODES), rule("sg-endpoints", "tcp", 443, 443, "172.16.0.0/17")];
        assert!(w.audit().iter().all(|f| f.missing.as_deref().is_some_and(|m| m.contains("from 172.16.0.0/16 ("))));
    }

    #[test]
    fn only_live_interface_endpoints_of_this_region_count() {
        for spoil in 0..3 {
            let mut w = World::complete();
            let e = w.endpoint("eks");
            match spoil {
                0 => e.state = "deleted".into(),
                1 => e.interface = false,
                _ => e.service_name = "com.amazonaws.eu-west-1.eks".into(),
            }
            assert_eq!(
                missing(&w.audit()),
                ["interface VPC endpoint com.amazonaws.us-east-1.eks in VPC vpc-1"],
                "{spoil}"
            );
        }
        let mut w = World::complete();
        w.endpoint("eks").state = "pending".into();
        w.endpoint("sts").service_name = "cn.com.amazonaws.us-east-1.sts".into();
        assert_eq!(w.audit(), []);
    }

    #[test]
    fn the_best_of_two_endpoints_for_a_service_is_judged() {
        let mut w = World::complete();
        let mut bad = endpoint("eks");
        bad.id = "vpce-aaa".into();
        bad.private_dns = false;
        w.endpoints.insert(0, bad);
        assert_eq!(w.audit(), []);
        w.endpoints.retain(|e| e.id != "vpce-eks");
        let found = w.audit();
        assert_eq!(
            missing(&found),
            ["interface VPC endpoint vpce-aaa (com.amazonaws.us-east-1.eks): private DNS is off"]
        );
    }

    #[test]
    fn every_summary_is_distinct() {
        let mut w = World::complete().without("eks");
        w.rules.clear();
        for e in &mut w.endpoints {
            e.private_dns = false;
            e.subnet_ids.truncate(1);
        }
        let found = w.audit();
        assert_eq!(found.len(), 1 + 3 * (REQUIRED.len() - 1));
        let summaries: BTreeSet<&str> = found.iter().map(|f| f.summary.as_str()).collect();
        assert_eq!(summaries.len(), found.len());
        assert!(found.iter().all(|f| f.missing.is_some() && !f.detail.is_empty()));
    }

    #[test]
    fn public_and_private_access_warns_and_nothing_else_does() {
        let f = access_finding(&cluster(true, true)).expect("a warning");
        assert_eq!(f.missing, None);
        assert!(
            f.detail.contains("public addresses") && f.detail.contains("endpointPublicAccess=false"),
            "{}",
            f.detail
        );
        for (public, private) in [(true, false), (false, true), (false, false)] {
            assert_eq!(access_finding(&cluster(public, private)), None);
        }
        assert!(cluster(false, true).private_only());
        assert!(!cluster(true, true).private_only() && !cluster(false, false).private_only());
    }

    /// Clients whose every request fails at once (nothing listens on port 1, no retries).
    fn unreachable() -> Clients {
        use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
        let ec2 = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url("http://127.0.0.1:1")
            .retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
            .build();
        let eks =
            aws_sdk_eks::Config::builder().behavior_version(aws_sdk_eks::config::BehaviorVersion::latest()).build();
        Clients {
            ec2: std::sync::Arc::new(aws_sdk_ec2::Client::from_conf(ec2)),
            eks: std::sync::Arc::new(aws_sdk_eks::Client::from_conf(eks)),
            region: REGION.into(),
            ec2_endpoint: "http://127.0.0.1:1".into(),
            eks_endpoint: "http://127.0.0.1:1".into(),
            max_attempts: 1,
            handover: crate::aws::handover::Handover::default(),
        }
    }

    fn cluster(public: bool, private: bool) -> Cluster {
        Cluster {
            name: "edge".into(),
            endpoint_public_access: public,
            endpoint_private_access: private,
            ..Cluster::default()
        }
    }

    #[tokio::test]
    async fn only_a_private_only_cluster_reads_aws_and_a_failed_read_is_a_warning() {
        let clients = unreachable();
        let (nodes, pods) = ([net(NODES)], [net(PODS)]);
        // Any request would fail: none is made for a public cluster.
        for (public, private) in [(true, false), (false, false)] {
            let found = endpoint_findings(&clients, &cluster(public, private), "vpc-1", &nodes, &pods, None).await;
            assert_eq!(found.ok(), Some(Vec::new()));
        }
        let mut diags = Diagnostics::new();
        warnings(&clients, &cluster(true, true), "vpc-1", &nodes, &pods, None, &mut diags).await;
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].summary, "Cluster endpoint is both public and private");

        let mut diags = Diagnostics::new();
        warnings(&clients, &cluster(false, true), "vpc-1", &nodes, &pods, None, &mut diags).await;
        assert!(!diags.has_errors(), "{diags:?}");
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        let d = &diags.0[0];
        assert!(d.summary.contains("ec2:DescribeVpcEndpoints"), "{}", d.summary);
        assert!(d.detail.ends_with("The VPC endpoints a private cluster needs were not checked."), "{}", d.detail);
        assert_eq!(d.path.as_ref().map(ToString::to_string).as_deref(), Some("cluster_name"));
    }

    #[test]
    fn sources_are_nodes_then_pods_once_each() {
        assert_eq!(sources(&[net(NODES)], &[net(PODS), net(NODES)]), [net(NODES), net(PODS)]);
    }
}
