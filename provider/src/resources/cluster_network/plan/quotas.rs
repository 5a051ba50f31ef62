//! Default EC2 quotas an apply could pass, known at plan: non-propagated IPv4 routes per
//! route table and IPv4 rules per security group per direction. Each is a warning on the
//! attribute that causes it, with the resulting count, and never an error: an account
//! whose quota is raised must not be blocked. Warned only when this apply adds to the
//! count, from what the plan-time checks read already (no extra request).

use hybridnet_rules::{Direction, SecurityGroupRule};
use tfplugin5::{AttrPath, Diagnostics};

use super::matching::missing_rules;
use super::model::{desired_routes, Desired, RouteEntry};
use crate::aws::ec2;

/// Default quota "Routes per route table" (non-propagated routes, IPv4).
pub const ROUTES_PER_TABLE: usize = 50;
/// Default quota "Inbound or outbound rules per security group" (per direction, IPv4).
pub const RULES_PER_DIRECTION: usize = 60;

/// What one route table will hold after the apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteCount {
    pub now: usize,
    pub added: usize,
    pub removed: usize,
}

impl RouteCount {
    pub fn after(&self) -> usize {
        (self.now + self.added).saturating_sub(self.removed)
    }
}

/// Counts the non-propagated IPv4 routes of `table` now, the routes `d` adds (CIDRs it
/// has no route for) and the routes of ours it removes (recorded, no longer wanted, still
/// pointing at the gateway).
pub fn route_count(d: &Desired, table: &ec2::RouteTable, ours: &[RouteEntry]) -> RouteCount {
    let want = desired_routes(d, std::slice::from_ref(&table.id));
    let has = |cidr: &str| table.routes.iter().any(|r| r.destination_cidr == cidr);
    let removed = ours
        .iter()
        .filter(|o| o.route_table_id == table.id && !want.iter().any(|w| w.destination_cidr == o.destination_cidr))
        .filter(|o| table.routes.iter().any(|r| r.destination_cidr == o.destination_cidr && r.target_id == d.gateway))
        .count();
    RouteCount {
        now: table.routes.iter().filter(|r| !r.propagated).count(),
        added: want.iter().filter(|w| !has(&w.destination_cidr)).count(),
        removed,
    }
}

/// Warns, on `route_table_ids`, for each configured route table the apply would take
/// past [`ROUTES_PER_TABLE`].
pub fn check_route_tables(d: &Desired, tables: &[ec2::RouteTable], ours: &[RouteEntry], diags: &mut Diagnostics) {
    for table in tables.iter().filter(|t| d.route_table_ids.contains(&t.id)) {
        let count = route_count(d, table, ours);
        if count.added == 0 || count.after() <= ROUTES_PER_TABLE {
            continue;
        }
        diags.warning(
            "Route table would pass its route quota",
            format!(
                "Route table {} would hold {} non-propagated IPv4 routes after this apply ({} now, {} to add{}); the \
                 default quota is {ROUTES_PER_TABLE} routes per route table, and CreateRoute fails past the account's \
                 quota (RouteLimitExceeded). The quota can be raised: request a higher \"Routes per route table\" in \
                 Service Quotas (Amazon VPC), or summarize the remote CIDRs, or use a dedicated route table \
                 (create_route_table = true).",
                table.id,
                count.after(),
                count.now,
                count.added,
                if count.removed > 0 { format!(", {} to remove", count.removed) } else { String::new() },
            ),
            Some(AttrPath::attr("route_table_ids")),
        );
    }
}

/// IPv4 rules of one direction: (now, to add).
pub fn rule_count(rules: &[ec2::SgRule], desired: &[SecurityGroupRule], direction: Direction) -> (usize, usize) {
    let egress = direction == Direction::Egress;
    let now = rules.iter().filter(|r| r.egress == egress && !r.ipv6).count();
    let added = missing_rules(rules, desired).into_iter().filter(|r| r.direction == direction).count();
    (now, added)
}

/// Warns, on `security_group_id`, for each direction the apply would take past
/// [`RULES_PER_DIRECTION`] (EKS's rules and everyone else's count too).
pub fn check_security_group(sg: &str, rules: &[ec2::SgRule], desired: &[SecurityGroupRule], diags: &mut Diagnostics) {
    for (direction, word) in [(Direction::Ingress, "inbound"), (Direction::Egress, "outbound")] {
        let (now, added) = rule_count(rules, desired, direction);
        let after = now + added;
        if added == 0 || after <= RULES_PER_DIRECTION {
            continue;
        }
        diags.warning(
            format!("Security group near its {word} rule limit"),
            format!(
                "Security group {sg} would have {after} {word} IPv4 rules after this apply ({now} now, {added} to \
                 add); EC2 allows {RULES_PER_DIRECTION} per direction by default, AWS refuses rules past the \
                 account's quota (RulesPerSecurityGroupLimitExceeded), and rules past the limit may not apply (as \
                 the EKS guide warns). The quota can be raised: request a higher \"Inbound or outbound rules per \
                 security group\" in Service Quotas (Amazon VPC), or consolidate the remote CIDRs.",
            ),
            Some(AttrPath::attr("security_group_id")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::cluster_network::model::ClusterNetworkModel;
    use tfplugin5::typed::Tf;

    fn desired() -> Desired {
        let m = ClusterNetworkModel {
            cluster_name: Tf::Known("edge".into()),
            remote_node_cidrs: Tf::Known(vec![Tf::Known("192.168.0.0/22".into())]),
            remote_pod_cidrs: Tf::Known(vec![Tf::Known("172.16.0.0/16".into())]),
            transit_gateway_id: Tf::Known("tgw-1".into()),
            route_table_ids: Tf::Known(vec![Tf::Known("rtb-1".into())]),
            ..ClusterNetworkModel::default()
        };
        let mut diags = Diagnostics::new();
        let d = Desired::from_model(&m, &mut diags);
        assert!(!diags.has_errors(), "{diags:?}");
        d
    }

    fn route(dest: String, target: &str, propagated: bool) -> ec2::Route {
        ec2::Route { destination_cidr: dest, target_id: target.into(), state: "active".into(), propagated }
    }

    #[test]
    fn routes_count_what_stays_what_is_added_and_not_what_is_propagated() {
        let d = desired();
        let mut routes = vec![route("10.0.0.0/16".into(), "local", false)];
        routes.extend((0..48).map(|i| route(format!("100.64.{i}.0/24"), "igw-1", false)));
        routes.extend((0..20).map(|i| route(format!("10.200.{i}.0/24"), "vgw-1", true)));
        // Already routed to us: not added again. A removed CIDR of ours still pointing at us.
        routes.push(route("192.168.0.0/22".into(), "tgw-1", false));
        routes.push(route("192.168.8.0/22".into(), "tgw-1", false));
        let table = ec2::RouteTable {
            id: "rtb-1".into(),
            vpc_id: "vpc-1".into(),
            routes,
            associations: Vec::new(),
            tags: Vec::new(),
        };
        let ours = [RouteEntry {
            route_table_id: "rtb-1".into(),
            destination_cidr: "192.168.8.0/22".into(),
            target_id: "tgw-1".into(),
            network: "node".into(),
        }];
        let count = route_count(&d, &table, &ours);
        assert_eq!(count, RouteCount { now: 51, added: 1, removed: 1 });
        assert_eq!(count.after(), 51);
        let mut diags = Diagnostics::new();
        check_route_tables(&d, std::slice::from_ref(&table), &ours, &mut diags);
        assert!(!diags.has_errors(), "a quota is never an error");
        let text = format!("{diags:?}");
        assert!(text.contains("51 non-propagated IPv4 routes") && text.contains("1 to add, 1 to remove"), "{text}");
        // Nothing to add: no warning, whatever the count (the quota may be raised).
        let mut full = table.clone();
        full.routes.push(route("172.16.0.0/16".into(), "tgw-1", false));
        let mut diags = Diagnostics::new();
        check_route_tables(&d, &[full], &[], &mut diags);
        assert_eq!(format!("{diags:?}"), format!("{:?}", Diagnostics::new()));
    }

    #[test]
    fn rules_count_per_direction_ipv4_only() {
        let d = desired();
        let rule = |i: usize, egress: bool, ipv6: bool| ec2::SgRule {
            id: format!("sgr-{i}-{egress}-{ipv6}"),
            egress,
            protocol: "tcp".into(),
            from_port: 8000,
            to_port: 8000,
            cidr: (!ipv6).then(|| format!("10.200.{i}.0/24")),
            ipv6,
            description: String::new(),
            tags: Vec::new(),
            ..ec2::SgRule::default()
        };
        let mut rules: Vec<ec2::SgRule> = (0..60).map(|i| rule(i, true, false)).collect();
        rules.extend((0..10).map(|i| rule(i, true, true)));
        rules.extend((0..3).map(|i| rule(i, false, false)));
        let want = d.rules();
        assert_eq!(rule_count(&rules, &want, Direction::Egress), (60, 1));
        assert_eq!(rule_count(&rules, &want, Direction::Ingress), (3, 2));
        let mut diags = Diagnostics::new();
        check_security_group("sg-1", &rules, &want, &mut diags);
        assert!(!diags.has_errors());
        let text = format!("{diags:?}");
        assert!(text.contains("61 outbound IPv4 rules") && text.contains("(60 now, 1 to add)"), "{text}");
        assert!(!text.contains("inbound IPv4"), "{text}");
    }
}
