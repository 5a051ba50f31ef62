//! An in-memory, stateful EC2 and EKS for unit tests: what a call creates, a later
//! describe shows; what it deletes is gone. It answers the error codes the provider
//! relies on (`RouteAlreadyExists`, `InvalidPermission.Duplicate`,
//! `DuplicateTransitGatewayAttachment`, `*.NotFound`), records every call by its IAM
//! action name, and can fail or hold a chosen call.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::ec2::endpoints::VpcEndpoint;
use super::ec2::{
    Attachment, AttachmentPhase, DnsAttribute, Ec2, Filter, Gateway, GatewayKind, GatewayRow, Interface, NewRule,
    Route, RouteTable, SgRule, Subnet, Tags, Vpc,
};
use super::eks::{Cluster, Eks};
use super::AwsError;

/// A network interface and where it is.
#[derive(Clone, Debug, Default)]
pub struct FakeInterface {
    pub interface: Interface,
    pub vpc_id: String,
    pub group_ids: Vec<String>,
}

/// The emulated account.
#[derive(Default)]
pub struct World {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub route_tables: BTreeMap<String, RouteTable>,
    pub gateways: Vec<GatewayRow>,
    /// Transit gateway attachments, with their VPC.
    pub attachments: Vec<(String, Attachment)>,
    pub security_groups: Vec<String>,
    pub rules: Vec<SgRule>,
    pub interfaces: Vec<FakeInterface>,
    pub endpoints: Vec<(String, VpcEndpoint)>,
    pub clusters: Vec<Cluster>,
    /// The state a new transit gateway attachment starts in (`available` if empty).
    pub new_attachment_state: String,
    /// Every call, as `ec2:Action` / `eks:Action`.
    pub calls: Vec<String>,
    /// Errors to answer, by action: each is answered once, in order.
    pub failures: BTreeMap<String, Vec<AwsError>>,
    next_id: u32,
}

/// The fake: cheap to clone, every clone sees one world.
#[derive(Clone, Default)]
pub struct Fake {
    world: Arc<Mutex<World>>,
    /// An action whose calls never answer (a request in flight when a stop comes).
    hold: Arc<Mutex<Option<String>>>,
}

pub fn api_error(operation: &'static str, code: &str) -> AwsError {
    AwsError::Api { operation, code: code.into(), message: format!("fake: {code}") }
}

fn matches(filters: &[Filter], field: impl Fn(&str) -> Vec<String>) -> bool {
    filters.iter().all(|f| field(&f.name).iter().any(|v| f.values.contains(v)))
}

fn tag_values(tags: &Tags, name: &str) -> Vec<String> {
    name.strip_prefix("tag:")
        .map(|key| tags.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect())
        .unwrap_or_default()
}

impl Fake {
    pub fn new() -> Fake {
        Fake::default()
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Calls of `action` never answer from now on.
    pub fn hold(&self, action: &str) {
        *self.hold.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(action.to_string());
    }

    /// The next call of `action` fails with `code`.
    pub fn fail_next(&self, action: &'static str, code: &str) {
        self.world().failures.entry(action.to_string()).or_default().push(api_error(action, code));
    }

    /// How many calls of `action` were made.
    pub fn count(&self, action: &str) -> usize {
        self.world().calls.iter().filter(|c| *c == action).count()
    }

    /// Every route of table `id`: (destination, target).
    pub fn routes(&self, id: &str) -> Vec<(String, String)> {
        let w = self.world();
        let table = w.route_tables.get(id);
        table
            .map(|t| t.routes.iter().map(|r| (r.destination_cidr.clone(), r.target_id.clone())).collect())
            .unwrap_or_default()
    }

    /// Records the call; answers an injected failure, or holds it.
    async fn call(&self, action: &'static str) -> Result<MutexGuard<'_, World>, AwsError> {
        let held = self.hold.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_deref() == Some(action);
        {
            let mut w = self.world();
            w.calls.push(action.to_string());
            if let Some(err) = w.failures.get_mut(action).filter(|f| !f.is_empty()).map(|f| f.remove(0)) {
                return Err(err);
            }
        }
        if held {
            std::future::pending::<()>().await;
        }
        Ok(self.world())
    }
}

impl World {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:08x}", self.next_id)
    }

    fn retag(&mut self, resource: &str, f: impl Fn(&mut Tags)) {
        if let Some(t) = self.route_tables.get_mut(resource) {
            f(&mut t.tags);
        }
        for (_, a) in self.attachments.iter_mut().filter(|(_, a)| a.id == resource) {
            f(&mut a.tags);
        }
        for r in self.rules.iter_mut().filter(|r| r.id == resource) {
            f(&mut r.tags);
        }
    }
}

fn same_rule(a: &SgRule, group_id: &str, egress: bool, want: &NewRule) -> bool {
    a.group_id == group_id
        && a.egress == egress
        && a.protocol == want.protocol
        && a.from_port == want.from_port
        && a.to_port == want.to_port
        && a.cidr.as_deref() == Some(want.cidr.as_str())
}

#[tonic::async_trait]
impl Ec2 for Fake {
    async fn describe_vpc(&self, vpc_id: &str) -> Result<Option<Vpc>, AwsError> {
        let w = self.call("ec2:DescribeVpcs").await?;
        Ok(w.vpcs.iter().find(|v| v.id == vpc_id).map(|v| Vpc { dns_hostnames: false, dns_support: true, ..v.clone() }))
    }

    async fn describe_vpc_attribute(&self, vpc_id: &str, attribute: DnsAttribute) -> Result<Option<bool>, AwsError> {
        let w = self.call("ec2:DescribeVpcAttribute").await?;
        let vpc = w
            .vpcs
            .iter()
            .find(|v| v.id == vpc_id)
            .ok_or_else(|| api_error("ec2:DescribeVpcAttribute", "InvalidVpcID.NotFound"))?;
        Ok(Some(match attribute {
            DnsAttribute::Hostnames => vpc.dns_hostnames,
            DnsAttribute::Support => vpc.dns_support,
        }))
    }

    async fn describe_subnets(&self, filters: &[Filter]) -> Result<Vec<Subnet>, AwsError> {
        let w = self.call("ec2:DescribeSubnets").await?;
        let field = |s: &Subnet, name: &str| match name {
            "subnet-id" => vec![s.id.clone()],
            "vpc-id" => vec![s.vpc_id.clone()],
            _ => Vec::new(),
        };
        Ok(w.subnets.iter().filter(|s| matches(filters, |n| field(s, n))).cloned().collect())
    }

    async fn describe_route_tables(&self, filters: &[Filter]) -> Result<Vec<RouteTable>, AwsError> {
        let w = self.call("ec2:DescribeRouteTables").await?;
        let field = |t: &RouteTable, name: &str| match name {
            "route-table-id" => vec![t.id.clone()],
            "vpc-id" => vec![t.vpc_id.clone()],
            _ => tag_values(&t.tags, name),
        };
        Ok(w.route_tables.values().filter(|t| matches(filters, |n| field(t, n))).cloned().collect())
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> Result<String, AwsError> {
        let mut w = self.call("ec2:CreateRouteTable").await?;
        let id = w.id("rtb");
        let table = RouteTable {
            id: id.clone(),
            vpc_id: vpc_id.into(),
            routes: Vec::new(),
            associations: Vec::new(),
            tags: tags.clone(),
        };
        w.route_tables.insert(id.clone(), table);
        Ok(id)
    }

    async fn delete_route_table(&self, id: &str) -> Result<(), AwsError> {
        let mut w = self.call("ec2:DeleteRouteTable").await?;
        w.route_tables
            .remove(id)
            .map(drop)
            .ok_or_else(|| api_error("ec2:DeleteRouteTable", "InvalidRouteTableID.NotFound"))
    }

    async fn associate_route_table(&self, route_table: &str, subnet: &str) -> Result<String, AwsError> {
        let mut w = self.call("ec2:AssociateRouteTable").await?;
        let id = w.id("rtbassoc");
        let table = w.route_tables.get_mut(route_table);
        let table = table.ok_or_else(|| api_error("ec2:AssociateRouteTable", "InvalidRouteTableID.NotFound"))?;
        table.associations.push((id.clone(), subnet.into()));
        Ok(id)
    }

    async fn disassociate_route_table(&self, association_id: &str) -> Result<(), AwsError> {
        let mut w = self.call("ec2:DisassociateRouteTable").await?;
        for t in w.route_tables.values_mut() {
            t.associations.retain(|(a, _)| a != association_id);
        }
        Ok(())
    }

    async fn create_route(&self, route_table: &str, cidr: &str, gateway: &str) -> Result<(), AwsError> {
        const OP: &str = "ec2:CreateRoute";
        let mut w = self.call(OP).await?;
        let t = w.route_tables.get_mut(route_table).ok_or_else(|| api_error(OP, "InvalidRouteTableID.NotFound"))?;
        if t.routes.iter().any(|r| r.destination_cidr == cidr) {
            return Err(api_error(OP, "RouteAlreadyExists"));
        }
        let route = Route {
            destination_cidr: cidr.into(),
            target_id: gateway.into(),
            state: "active".into(),
            propagated: false,
        };
        t.routes.push(route);
        Ok(())
    }

    async fn replace_route(&self, route_table: &str, cidr: &str, gateway: &str) -> Result<(), AwsError> {
        const OP: &str = "ec2:ReplaceRoute";
        let mut w = self.call(OP).await?;
        let t = w.route_tables.get_mut(route_table).ok_or_else(|| api_error(OP, "InvalidRouteTableID.NotFound"))?;
        let r = t.routes.iter_mut().find(|r| r.destination_cidr == cidr);
        r.ok_or_else(|| api_error(OP, "InvalidRoute.NotFound"))?.target_id = gateway.into();
        Ok(())
    }

    async fn delete_route(&self, route_table: &str, cidr: &str) -> Result<(), AwsError> {
        const OP: &str = "ec2:DeleteRoute";
        let mut w = self.call(OP).await?;
        let t = w.route_tables.get_mut(route_table).ok_or_else(|| api_error(OP, "InvalidRouteTableID.NotFound"))?;
        let before = t.routes.len();
        t.routes.retain(|r| r.destination_cidr != cidr);
        if t.routes.len() == before {
            return Err(api_error(OP, "InvalidRoute.NotFound"));
        }
        Ok(())
    }

    async fn describe_gateways(&self, gateway: &str) -> Result<Vec<GatewayRow>, AwsError> {
        let action = match GatewayKind::of(gateway) {
            GatewayKind::Transit => "ec2:DescribeTransitGateways",
            GatewayKind::Vpn => "ec2:DescribeVpnGateways",
        };
        let w = self.call(action).await?;
        Ok(w.gateways.iter().filter(|g| g.gateway.id == gateway).cloned().collect())
    }

    async fn describe_transit_attachments(&self, gateway: &str, vpc_id: &str) -> Result<Vec<Attachment>, AwsError> {
        let w = self.call("ec2:DescribeTransitGatewayVpcAttachments").await?;
        Ok(w.attachments
            .iter()
            .filter(|(v, a)| v == vpc_id && a.gateway_id == gateway)
            .map(|(_, a)| a.clone())
            .collect())
    }

    async fn create_transit_attachment(
        &self,
        gateway: &str,
        vpc_id: &str,
        subnet_ids: &[String],
        tags: &Tags,
    ) -> Result<Option<Attachment>, AwsError> {
        const OP: &str = "ec2:CreateTransitGatewayVpcAttachment";
        let mut w = self.call(OP).await?;
        let live = |a: &Attachment| a.gateway_id == gateway && a.phase != AttachmentPhase::Gone;
        if w.attachments.iter().any(|(v, a)| v == vpc_id && live(a)) {
            return Err(api_error(OP, "DuplicateTransitGatewayAttachment"));
        }
        let state =
            if w.new_attachment_state.is_empty() { "available".to_string() } else { w.new_attachment_state.clone() };
        let a = Attachment {
            id: w.id("tgw-attach"),
            gateway_id: gateway.into(),
            phase: AttachmentPhase::of(gateway, &state),
            state,
            subnet_ids: subnet_ids.to_vec(),
            tags: tags.clone(),
        };
        w.attachments.push((vpc_id.into(), a.clone()));
        Ok(Some(a))
    }

    async fn delete_transit_attachment(&self, id: &str) -> Result<Option<String>, AwsError> {
        const OP: &str = "ec2:DeleteTransitGatewayVpcAttachment";
        let mut w = self.call(OP).await?;
        let (_, a) = w
            .attachments
            .iter_mut()
            .find(|(_, a)| a.id == id)
            .ok_or_else(|| api_error(OP, "InvalidTransitGatewayAttachmentID.NotFound"))?;
        a.state = "deleted".into();
        a.phase = AttachmentPhase::Gone;
        Ok(Some("deleting".into()))
    }

    async fn modify_transit_attachment(&self, id: &str, add: &[String], remove: &[String]) -> Result<(), AwsError> {
        let mut w = self.call("ec2:ModifyTransitGatewayVpcAttachment").await?;
        for (_, a) in w.attachments.iter_mut().filter(|(_, a)| a.id == id) {
            a.subnet_ids.retain(|s| !remove.contains(s));
            a.subnet_ids.extend(add.iter().cloned());
        }
        Ok(())
    }

    async fn attach_vpn_gateway(&self, gateway: &str, vpc_id: &str) -> Result<(), AwsError> {
        let mut w = self.call("ec2:AttachVpnGateway").await?;
        let g = w.gateways.iter_mut().find(|g| g.gateway.id == gateway);
        let g = g.ok_or_else(|| api_error("ec2:AttachVpnGateway", "InvalidVpnGatewayID.NotFound"))?;
        g.vpc_attachments.retain(|(v, _)| v != vpc_id);
        g.vpc_attachments.push((vpc_id.into(), "attached".into()));
        Ok(())
    }

    async fn detach_vpn_gateway(&self, gateway: &str, vpc_id: &str) -> Result<(), AwsError> {
        let mut w = self.call("ec2:DetachVpnGateway").await?;
        let g = w.gateways.iter_mut().find(|g| g.gateway.id == gateway);
        let g = g.ok_or_else(|| api_error("ec2:DetachVpnGateway", "InvalidVpnGatewayID.NotFound"))?;
        for (_, state) in g.vpc_attachments.iter_mut().filter(|(v, _)| v == vpc_id) {
            *state = "detached".into();
        }
        Ok(())
    }

    async fn describe_security_group_rules(&self, filters: &[Filter]) -> Result<Vec<SgRule>, AwsError> {
        let w = self.call("ec2:DescribeSecurityGroupRules").await?;
        let field = |r: &SgRule, name: &str| match name {
            "group-id" => vec![r.group_id.clone()],
            _ => tag_values(&r.tags, name),
        };
        Ok(w.rules.iter().filter(|r| matches(filters, |n| field(r, n))).cloned().collect())
    }

    async fn describe_security_groups(&self, filters: &[Filter]) -> Result<Vec<String>, AwsError> {
        let w = self.call("ec2:DescribeSecurityGroups").await?;
        let field = |g: &String, name: &str| if name == "group-id" { vec![g.clone()] } else { Vec::new() };
        Ok(w.security_groups.iter().filter(|g| matches(filters, |n| field(g, n))).cloned().collect())
    }

    async fn authorize_rules(
        &self,
        group_id: &str,
        egress: bool,
        rules: &[NewRule],
        tags: &Tags,
    ) -> Result<Vec<SgRule>, AwsError> {
        let op = if egress { "ec2:AuthorizeSecurityGroupEgress" } else { "ec2:AuthorizeSecurityGroupIngress" };
        let mut w = self.call(op).await?;
        if !w.security_groups.iter().any(|g| g == group_id) {
            return Err(api_error(op, "InvalidGroup.NotFound"));
        }
        if rules.iter().any(|want| w.rules.iter().any(|r| same_rule(r, group_id, egress, want))) {
            return Err(api_error(op, "InvalidPermission.Duplicate"));
        }
        let mut made = Vec::new();
        for r in rules {
            let rule = SgRule {
                id: w.id("sgr"),
                group_id: group_id.into(),
                egress,
                protocol: r.protocol.clone(),
                from_port: r.from_port,
                to_port: r.to_port,
                cidr: Some(r.cidr.clone()),
                ipv6: false,
                description: r.description.clone(),
                tags: tags.clone(),
            };
            w.rules.push(rule.clone());
            made.push(rule);
        }
        Ok(made)
    }

    async fn revoke_rules(&self, group_id: &str, egress: bool, ids: &[String]) -> Result<(), AwsError> {
        let op = if egress { "ec2:RevokeSecurityGroupEgress" } else { "ec2:RevokeSecurityGroupIngress" };
        let mut w = self.call(op).await?;
        let known = |id: &String| w.rules.iter().any(|r| &r.id == id && r.group_id == group_id && r.egress == egress);
        if !ids.iter().all(known) {
            return Err(api_error(op, "InvalidSecurityGroupRuleId.NotFound"));
        }
        w.rules.retain(|r| !ids.contains(&r.id));
        Ok(())
    }

    async fn describe_network_interfaces(&self, filters: &[Filter]) -> Result<Vec<Interface>, AwsError> {
        let w = self.call("ec2:DescribeNetworkInterfaces").await?;
        let field = |i: &FakeInterface, name: &str| match name {
            "vpc-id" => vec![i.vpc_id.clone()],
            "description" => vec![i.interface.description.clone()],
            "group-id" => i.group_ids.clone(),
            _ => Vec::new(),
        };
        Ok(w.interfaces.iter().filter(|i| matches(filters, |n| field(i, n))).map(|i| i.interface.clone()).collect())
    }

    async fn create_tags(&self, resources: &[String], tags: &Tags) -> Result<(), AwsError> {
        let mut w = self.call("ec2:CreateTags").await?;
        for resource in resources {
            w.retag(resource, |have| {
                for (k, v) in tags {
                    have.retain(|(x, _)| x != k);
                    have.push((k.clone(), v.clone()));
                }
            });
        }
        Ok(())
    }

    async fn delete_tags(&self, resources: &[String], keys: &[String]) -> Result<(), AwsError> {
        let mut w = self.call("ec2:DeleteTags").await?;
        for resource in resources {
            w.retag(resource, |have| have.retain(|(k, _)| !keys.contains(k)));
        }
        Ok(())
    }

    async fn describe_vpc_endpoints(&self, filters: &[Filter]) -> Result<Vec<VpcEndpoint>, AwsError> {
        let w = self.call("ec2:DescribeVpcEndpoints").await?;
        let field = |(vpc, _): &(String, VpcEndpoint), name: &str| {
            if name == "vpc-id" {
                vec![vpc.clone()]
            } else {
                Vec::new()
            }
        };
        Ok(w.endpoints.iter().filter(|e| matches(filters, |n| field(e, n))).map(|(_, e)| e.clone()).collect())
    }
}

#[tonic::async_trait]
impl Eks for Fake {
    async fn describe_cluster(&self, name: &str) -> Result<Option<Cluster>, AwsError> {
        let w = self.call("eks:DescribeCluster").await?;
        Ok(w.clusters.iter().find(|c| c.name == name).cloned())
    }

    async fn list_clusters(&self) -> Result<Vec<String>, AwsError> {
        let w = self.call("eks:ListClusters").await?;
        Ok(w.clusters.iter().map(|c| c.name.clone()).collect())
    }
}

impl World {
    /// A VPC `vpc_id` with `cidr`, owned by account `111111111111`, DNS on, and a
    /// transit gateway `tgw` of that account.
    pub fn vpc_with_gateway(&mut self, vpc_id: &str, cidr: &str, tgw: &str) {
        self.vpcs.push(Vpc {
            id: vpc_id.into(),
            owner_id: "111111111111".into(),
            cidrs: vec![cidr.into()],
            dns_hostnames: true,
            dns_support: true,
        });
        let gateway = Gateway { id: tgw.into(), owner_id: "111111111111".into(), auto_accept_shared: false };
        self.gateways.push(GatewayRow { gateway, state: "available".into(), vpc_attachments: Vec::new() });
    }
}
