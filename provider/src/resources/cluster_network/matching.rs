//! The one answer to "does AWS already have what a requirement needs?", shared by the
//! resource (converge, refresh), the data source audit and the plan-time quota check.
//!
//! Rule semantics (see docs/resources/cluster_network.md, "Security group rules"): an
//! existing rule satisfies a required one only when it is the same rule — direction,
//! protocol, port range and CIDR all equal. A broader rule someone else owns (the
//! default allow-all egress, a wider CIDR, a port range) does not: it may be narrowed or
//! removed by its owner at any time, and the hybrid nodes' traffic must not depend on
//! it. An identical rule of someone else's (EKS writes the 443 ingress rules itself) is
//! used as it is, never duplicated, never deleted.

use std::collections::BTreeMap;

use hybridnet_rules::{Direction, SecurityGroupRule};

use super::model::OWNER_TAG;
use crate::aws::ec2::{RouteTable, SgRule};

/// Whether `existing` is the rule `want` asks for.
pub fn satisfies(existing: &SgRule, want: &SecurityGroupRule) -> bool {
    existing.egress == (want.direction == Direction::Egress)
        && existing.protocol == want.protocol
        && existing.from_port == i32::from(want.from_port)
        && existing.to_port == i32::from(want.to_port)
        && existing.cidr.as_deref() == Some(want.cidr.to_string().as_str())
}

/// Whether the rule carries our ownership tag for `cluster`.
pub fn is_ours(rule: &SgRule, cluster: &str) -> bool {
    rule.tags.iter().any(|(k, v)| k == OWNER_TAG && v == cluster)
}

/// The existing rule that satisfies `want`, ours first (an identical foreign rule,
/// such as the one EKS adds itself, otherwise).
pub fn satisfying_rule<'a>(existing: &'a [SgRule], want: &SecurityGroupRule, cluster: &str) -> Option<&'a SgRule> {
    existing.iter().filter(|x| satisfies(x, want)).max_by_key(|x| is_ours(x, cluster))
}

/// The rules of `ids` (the IDs satisfying the requirements, in requirement order) that
/// `existing` has and that are not ours: the found (adopted) ones, each once, in the
/// order of `ids`. Apply and refresh both list them so, never in the order AWS reads
/// them back, so that a plan after apply finds nothing changed.
pub fn found_rule_ids(ids: &[String], existing: &[SgRule], cluster: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let found = existing.iter().any(|r| &r.id == id && !is_ours(r, cluster));
        if found && !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

/// The rules of `wanted` that nothing in `existing` satisfies: what an apply creates.
pub fn missing_rules<'a>(existing: &[SgRule], wanted: &'a [SecurityGroupRule]) -> Vec<&'a SecurityGroupRule> {
    wanted.iter().filter(|w| !existing.iter().any(|x| satisfies(x, w))).collect()
}

/// The gateway most routes for `cidrs` point at (a transit or virtual private
/// gateway), in the tables given: how import and the data source find "the" gateway.
pub fn routed_gateway(tables: &[RouteTable], cidrs: &[String]) -> Option<String> {
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for r in tables.iter().flat_map(|t| &t.routes) {
        if cidrs.contains(&r.destination_cidr) && (r.target_id.starts_with("tgw-") || r.target_id.starts_with("vgw-")) {
            *votes.entry(r.target_id.as_str()).or_default() += 1;
        }
    }
    votes.into_iter().max_by_key(|(_, n)| *n).map(|(g, _)| g.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybridnet_rules::Network;

    fn rule(egress: bool, protocol: &str, from: i32, to: i32, cidr: &str, tags: &[(&str, &str)]) -> SgRule {
        SgRule {
            id: format!("sgr-{egress}-{protocol}-{from}-{cidr}-{}", tags.len()),
            egress,
            protocol: protocol.into(),
            from_port: from,
            to_port: to,
            cidr: Some(cidr.into()),
            ipv6: false,
            description: String::new(),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..SgRule::default()
        }
    }

    fn want(direction: Direction, protocol: &'static str, port: u16, cidr: &str) -> SecurityGroupRule {
        SecurityGroupRule {
            direction,
            protocol,
            from_port: port,
            to_port: port,
            cidr: cidr.parse().expect("test CIDR"),
            network: Network::Node,
            description: "hybridnet: test".into(),
        }
    }

    #[test]
    fn only_the_identical_rule_satisfies_a_requirement() {
        let w = want(Direction::Egress, "tcp", 10250, "192.168.0.0/22");
        assert!(satisfies(&rule(true, "tcp", 10250, 10250, "192.168.0.0/22", &[]), &w));
        // Broader rules of others do not: allow-all egress, a wider CIDR, a port range.
        assert!(!satisfies(&rule(true, "-1", -1, -1, "0.0.0.0/0", &[]), &w));
        assert!(!satisfies(&rule(true, "tcp", 10250, 10250, "192.168.0.0/16", &[]), &w));
        assert!(!satisfies(&rule(true, "tcp", 0, 65535, "192.168.0.0/22", &[]), &w));
        // Direction and protocol count (the gateway's VXLAN rules are UDP).
        assert!(!satisfies(&rule(false, "tcp", 10250, 10250, "192.168.0.0/22", &[]), &w));
        assert!(!satisfies(&rule(true, "udp", 10250, 10250, "192.168.0.0/22", &[]), &w));
        let vxlan = want(Direction::Ingress, "udp", 8472, "192.168.0.0/22");
        assert!(satisfies(&rule(false, "udp", 8472, 8472, "192.168.0.0/22", &[]), &vxlan));
    }

    #[test]
    fn ours_is_preferred_and_missing_is_what_an_apply_creates() {
        let w = want(Direction::Ingress, "tcp", 443, "192.168.0.0/22");
        let eks = rule(false, "tcp", 443, 443, "192.168.0.0/22", &[]);
        let ours = rule(false, "tcp", 443, 443, "192.168.0.0/22", &[(OWNER_TAG, "edge")]);
        let both = [eks.clone(), ours.clone()];
        assert_eq!(satisfying_rule(&both, &w, "edge"), Some(&ours));
        assert!(
            satisfying_rule(std::slice::from_ref(&eks), &w, "edge") == Some(&eks),
            "an identical foreign rule is used"
        );
        let wanted = [w.clone(), want(Direction::Egress, "tcp", 10250, "192.168.0.0/22")];
        let allow_all = rule(true, "-1", -1, -1, "0.0.0.0/0", &[]);
        let missing = missing_rules(&[eks, allow_all], &wanted);
        assert_eq!(missing, vec![&wanted[1]]);
    }

    #[test]
    fn the_gateway_is_the_one_most_routes_point_at() {
        let table = |id: &str, routes: &[(&str, &str)]| RouteTable {
            id: id.into(),
            vpc_id: "vpc-1".into(),
            routes: routes
                .iter()
                .map(|(d, t)| crate::aws::ec2::Route {
                    destination_cidr: d.to_string(),
                    target_id: t.to_string(),
                    state: "active".into(),
                    propagated: false,
                })
                .collect(),
            associations: Vec::new(),
            tags: Vec::new(),
        };
        let cidrs = ["10.80.0.0/16".to_string(), "10.81.0.0/16".to_string()];
        let tables = [
            table("rtb-1", &[("10.80.0.0/16", "tgw-a"), ("10.81.0.0/16", "tgw-a"), ("0.0.0.0/0", "igw-1")]),
            table("rtb-2", &[("10.80.0.0/16", "vgw-b"), ("10.81.0.0/16", "eni-1")]),
        ];
        assert_eq!(routed_gateway(&tables, &cidrs).as_deref(), Some("tgw-a"));
        assert_eq!(routed_gateway(&tables[1..], &cidrs[1..]), None, "an interface is not a gateway");
    }

    #[test]
    fn found_rules_follow_the_requirements_not_the_read_back() {
        let cluster = "edge";
        let mut a = rule(false, "tcp", 443, 443, "10.80.0.0/16", &[]);
        a.id = "sgr-a".into();
        let mut b = rule(true, "tcp", 10250, 10250, "10.80.0.0/16", &[]);
        b.id = "sgr-b".into();
        let mut ours = rule(false, "tcp", 443, 443, "10.90.0.0/16", &[(OWNER_TAG, "edge")]);
        ours.id = "sgr-ours".into();
        let mut theirs = rule(false, "tcp", 443, 443, "10.91.0.0/16", &[(OWNER_TAG, "other")]);
        theirs.id = "sgr-theirs".into();
        // AWS reads them back in another order than the requirements list them.
        let existing = vec![b.clone(), ours, theirs, a.clone()];
        let ids: Vec<String> =
            ["sgr-a", "sgr-ours", "sgr-b", "sgr-theirs", "sgr-a", "sgr-new"].map(String::from).to_vec();
        assert_eq!(found_rule_ids(&ids, &existing, cluster), ["sgr-a", "sgr-b", "sgr-theirs"]);
        let mut reversed = existing.clone();
        reversed.reverse();
        assert_eq!(found_rule_ids(&ids, &reversed, cluster), found_rule_ids(&ids, &existing, cluster));
    }
}
