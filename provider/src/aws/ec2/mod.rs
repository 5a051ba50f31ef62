//! EC2, one file per kind of object: `vpc` (VPCs, subnets), `route_tables` (tables,
//! routes), `attachments` (gateways, attachments and their waiters), `rules` (security
//! group rules), `interfaces`, `tags`, `endpoints`.
//!
//! Two layers, as in the AWS provider for Terraform:
//! - the [`Ec2`] trait: one method per EC2 request (a paginated describe is one
//!   method, every page), in our own types. The SDK's client implements it (the
//!   `sdk_*` function beside each finder), and so does the in-memory fake
//!   ([`crate::aws::fake`]) the unit tests run against;
//! - the finders and mutators over `&dyn Ec2`, layered `find_x_by_… -> find_xs`:
//!   every describe is filtered (one [`Filter`] helper), "not found" has one meaning
//!   ([`absent`]), a mutation is idempotent.

pub mod attachments;
pub mod endpoints;
pub mod interfaces;
pub mod route_tables;
pub mod rules;
pub mod tags;
pub mod vpc;

pub use attachments::*;
pub use interfaces::*;
pub use route_tables::*;
pub use rules::*;
pub use tags::{retag, Tags};
pub use vpc::*;

use super::AwsError;

/// An EC2 describe filter: `name` matches any of `values`. The one way a describe
/// selects its objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

impl Filter {
    pub fn new(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
        Filter { name: name.to_string(), values: values.into_iter().map(Into::into).collect() }
    }

    /// `tag:<key>` = `value`.
    pub fn tag(key: &str, value: &str) -> Filter {
        Filter::new(&format!("tag:{key}"), [value])
    }

    fn sdk(&self) -> aws_sdk_ec2::types::Filter {
        aws_sdk_ec2::types::Filter::builder().name(&self.name).set_values(Some(self.values.clone())).build()
    }

    fn sdk_all(filters: &[Filter]) -> Vec<aws_sdk_ec2::types::Filter> {
        filters.iter().map(Filter::sdk).collect()
    }
}

/// The error of a call whose object is not there (any `*NotFound*` code, or a VGW
/// that is not attached): the one rule for "not found".
pub fn counts_as_gone(err: &AwsError) -> bool {
    err.is_not_found() || err.code() == Some("Gateway.NotAttached")
}

/// A call's result with "not found" ([`counts_as_gone`]) as `None`: a describe of a
/// missing object finds nothing, a delete of one already gone is done.
pub fn absent<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if counts_as_gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Which kind of gateway a route points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewayKind {
    Transit,
    Vpn,
}

impl GatewayKind {
    pub fn of(id: &str) -> GatewayKind {
        if id.starts_with("tgw-") {
            GatewayKind::Transit
        } else {
            GatewayKind::Vpn
        }
    }
}

/// EC2 as the provider uses it: one method per request (or paginated describe), in
/// the provider's own types. Implemented by `aws_sdk_ec2::Client` and by the fake.
#[tonic::async_trait]
pub trait Ec2: Send + Sync {
    // vpc.rs
    /// DescribeVpcs of one VPC (DNS attributes left at their defaults).
    async fn describe_vpc(&self, vpc_id: &str) -> Result<Option<Vpc>, AwsError>;
    async fn describe_vpc_attribute(&self, vpc_id: &str, attribute: DnsAttribute) -> Result<Option<bool>, AwsError>;
    async fn describe_subnets(&self, filters: &[Filter]) -> Result<Vec<Subnet>, AwsError>;
    // route_tables.rs
    async fn describe_route_tables(&self, filters: &[Filter]) -> Result<Vec<RouteTable>, AwsError>;
    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> Result<String, AwsError>;
    async fn delete_route_table(&self, id: &str) -> Result<(), AwsError>;
    async fn associate_route_table(&self, route_table: &str, subnet: &str) -> Result<String, AwsError>;
    async fn disassociate_route_table(&self, association_id: &str) -> Result<(), AwsError>;
    async fn create_route(&self, route_table: &str, cidr: &str, gateway: &str) -> Result<(), AwsError>;
    async fn replace_route(&self, route_table: &str, cidr: &str, gateway: &str) -> Result<(), AwsError>;
    async fn delete_route(&self, route_table: &str, cidr: &str) -> Result<(), AwsError>;
    // attachments.rs
    /// DescribeTransitGateways or DescribeVpnGateways (by the ID's kind) of one gateway.
    async fn describe_gateways(&self, gateway: &str) -> Result<Vec<GatewayRow>, AwsError>;
    async fn describe_transit_attachments(&self, gateway: &str, vpc_id: &str) -> Result<Vec<Attachment>, AwsError>;
    async fn create_transit_attachment(
        &self,
        gateway: &str,
        vpc_id: &str,
        subnet_ids: &[String],
        tags: &Tags,
    ) -> Result<Option<Attachment>, AwsError>;
    /// The state the answer reports.
    async fn delete_transit_attachment(&self, id: &str) -> Result<Option<String>, AwsError>;
    async fn modify_transit_attachment(&self, id: &str, add: &[String], remove: &[String]) -> Result<(), AwsError>;
    async fn attach_vpn_gateway(&self, gateway: &str, vpc_id: &str) -> Result<(), AwsError>;
    async fn detach_vpn_gateway(&self, gateway: &str, vpc_id: &str) -> Result<(), AwsError>;
    // rules.rs
    async fn describe_security_group_rules(&self, filters: &[Filter]) -> Result<Vec<SgRule>, AwsError>;
    /// The IDs of the groups found.
    async fn describe_security_groups(&self, filters: &[Filter]) -> Result<Vec<String>, AwsError>;
    /// AuthorizeSecurityGroupIngress / Egress: the rules the answer names.
    async fn authorize_rules(
        &self,
        group_id: &str,
        egress: bool,
        rules: &[NewRule],
        tags: &Tags,
    ) -> Result<Vec<SgRule>, AwsError>;
    async fn revoke_rules(&self, group_id: &str, egress: bool, ids: &[String]) -> Result<(), AwsError>;
    // interfaces.rs
    async fn describe_network_interfaces(&self, filters: &[Filter]) -> Result<Vec<Interface>, AwsError>;
    // tags.rs
    async fn create_tags(&self, resources: &[String], tags: &Tags) -> Result<(), AwsError>;
    async fn delete_tags(&self, resources: &[String], keys: &[String]) -> Result<(), AwsError>;
    // endpoints.rs
    async fn describe_vpc_endpoints(&self, filters: &[Filter]) -> Result<Vec<endpoints::VpcEndpoint>, AwsError>;
}

#[tonic::async_trait]
impl Ec2 for aws_sdk_ec2::Client {
    async fn describe_vpc(&self, vpc_id: &str) -> Result<Option<Vpc>, AwsError> {
        vpc::sdk_describe_vpc(self, vpc_id).await
    }
    async fn describe_vpc_attribute(&self, vpc_id: &str, attribute: DnsAttribute) -> Result<Option<bool>, AwsError> {
        vpc::sdk_describe_vpc_attribute(self, vpc_id, attribute).await
    }
    async fn describe_subnets(&self, filters: &[Filter]) -> Result<Vec<Subnet>, AwsError> {
        vpc::sdk_describe_subnets(self, filters).await
    }
    async fn describe_route_tables(&self, filters: &[Filter]) -> Result<Vec<RouteTable>, AwsError> {
        route_tables::sdk_describe_route_tables(self, filters).await
    }
    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> Result<String, AwsError> {
        route_tables::sdk_create_route_table(self, vpc_id, tags).await
    }
    async fn delete_route_table(&self, id: &str) -> Result<(), AwsError> {
        route_tables::sdk_delete_route_table(self, id).await
    }
    async fn associate_route_table(&self, route_table: &str, subnet: &str) -> Result<String, AwsError> {
        route_tables::sdk_associate_route_table(self, route_table, subnet).await
    }
    async fn disassociate_route_table(&self, association_id: &str) -> Result<(), AwsError> {
        route_tables::sdk_disassociate_route_table(self, association_id).await
    }
    async fn create_route(&self, route_table: &str, cidr: &str, gateway: &str) -> Result<(), AwsError> {
        route_tables::sdk_create_route(self, route_table, cidr, gateway).await
    }
    async fn replace_route(&self, route_table: &str, cidr: &str, gateway: &str) -> Result<(), AwsError> {
        route_tables::sdk_replace_route(self, route_table, cidr, gateway).await
    }
    async fn delete_route(&self, route_table: &str, cidr: &str) -> Result<(), AwsError> {
        route_tables::sdk_delete_route(self, route_table, cidr).await
    }
    async fn describe_gateways(&self, gateway: &str) -> Result<Vec<GatewayRow>, AwsError> {
        attachments::sdk_describe_gateways(self, gateway).await
    }
    async fn describe_transit_attachments(&self, gateway: &str, vpc_id: &str) -> Result<Vec<Attachment>, AwsError> {
        attachments::sdk_describe_transit_attachments(self, gateway, vpc_id).await
    }
    async fn create_transit_attachment(
        &self,
        gateway: &str,
        vpc_id: &str,
        subnet_ids: &[String],
        tags: &Tags,
    ) -> Result<Option<Attachment>, AwsError> {
        attachments::sdk_create_transit_attachment(self, gateway, vpc_id, subnet_ids, tags).await
    }
    async fn delete_transit_attachment(&self, id: &str) -> Result<Option<String>, AwsError> {
        attachments::sdk_delete_transit_attachment(self, id).await
    }
    async fn modify_transit_attachment(&self, id: &str, add: &[String], remove: &[String]) -> Result<(), AwsError> {
        attachments::sdk_modify_transit_attachment(self, id, add, remove).await
    }
    async fn attach_vpn_gateway(&self, gateway: &str, vpc_id: &str) -> Result<(), AwsError> {
        attachments::sdk_attach_vpn_gateway(self, gateway, vpc_id).await
    }
    async fn detach_vpn_gateway(&self, gateway: &str, vpc_id: &str) -> Result<(), AwsError> {
        attachments::sdk_detach_vpn_gateway(self, gateway, vpc_id).await
    }
    async fn describe_security_group_rules(&self, filters: &[Filter]) -> Result<Vec<SgRule>, AwsError> {
        rules::sdk_describe_security_group_rules(self, filters).await
    }
    async fn describe_security_groups(&self, filters: &[Filter]) -> Result<Vec<String>, AwsError> {
        rules::sdk_describe_security_groups(self, filters).await
    }
    async fn authorize_rules(
        &self,
        group_id: &str,
        egress: bool,
        rules: &[NewRule],
        tags: &Tags,
    ) -> Result<Vec<SgRule>, AwsError> {
        rules::sdk_authorize_rules(self, group_id, egress, rules, tags).await
    }
    async fn revoke_rules(&self, group_id: &str, egress: bool, ids: &[String]) -> Result<(), AwsError> {
        rules::sdk_revoke_rules(self, group_id, egress, ids).await
    }
    async fn describe_network_interfaces(&self, filters: &[Filter]) -> Result<Vec<Interface>, AwsError> {
        interfaces::sdk_describe_network_interfaces(self, filters).await
    }
    async fn create_tags(&self, resources: &[String], tags: &Tags) -> Result<(), AwsError> {
        tags::sdk_create_tags(self, resources, tags).await
    }
    async fn delete_tags(&self, resources: &[String], keys: &[String]) -> Result<(), AwsError> {
        tags::sdk_delete_tags(self, resources, keys).await
    }
    async fn describe_vpc_endpoints(&self, filters: &[Filter]) -> Result<Vec<endpoints::VpcEndpoint>, AwsError> {
        endpoints::sdk_describe_vpc_endpoints(self, filters).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{AttachmentStatus, TransitGatewayAttachmentState};

    #[test]
    fn every_documented_attachment_state_has_its_phase() {
        use AttachmentPhase::*;
        let transit = [
            ("initiating", InProgress),
            ("initiatingRequest", InProgress),
            ("pendingAcceptance", PendingAcceptance),
            ("rollingBack", InProgress),
            ("pending", InProgress),
            ("available", Usable),
            ("modifying", Usable),
            ("deleting", Gone),
            ("deleted", Gone),
            ("failing", Failed),
            ("failed", Failed),
            ("rejecting", Failed),
            ("rejected", Failed),
        ];
        for (name, phase) in transit {
            let state = TransitGatewayAttachmentState::from(name);
            assert!(TransitGatewayAttachmentState::values().contains(&name), "{name} is a documented state");
            assert_eq!(AttachmentPhase::of_transit(&state), phase, "{name}");
        }
        assert_eq!(TransitGatewayAttachmentState::values().len(), transit.len(), "a state AWS added is classified");
        let vpn = [("attaching", InProgress), ("attached", Usable), ("detaching", Gone), ("detached", Gone)];
        for (name, phase) in vpn {
            let state = AttachmentStatus::from(name);
            assert!(AttachmentStatus::values().contains(&name), "{name} is a documented state");
            assert_eq!(AttachmentPhase::of_vpn(&state), phase, "{name}");
        }
        assert_eq!(AttachmentStatus::values().len(), vpn.len());
        // A state this release does not know keeps the wait going (bounded by the timeout).
        assert_eq!(AttachmentPhase::of_transit(&TransitGatewayAttachmentState::from("suspended")), InProgress);
        // The preference among several attachments of one VPC to one gateway.
        assert!(Usable < InProgress && InProgress < PendingAcceptance && PendingAcceptance < Failed && Failed < Gone);
    }

    #[test]
    fn terminal_states_name_the_attachment_and_say_what_to_do() {
        let a = |state: &str| Attachment {
            id: "tgw-attach-1".into(),
            gateway_id: "tgw-1".into(),
            state: state.into(),
            phase: AttachmentPhase::of_transit(&TransitGatewayAttachmentState::from(state)),
            subnet_ids: Vec::new(),
            tags: Vec::new(),
        };
        for state in ["failed", "failing", "rejected", "rejecting"] {
            let (summary, detail) = a(state).state_error("vpc-1").summary_and_detail();
            assert_eq!(summary, format!("Transit gateway attachment tgw-attach-1 is {state}"));
            assert!(detail.contains("vpc-1") && detail.contains("tgw-1"), "{detail}");
            assert!(detail.contains("the next apply deletes it") && detail.contains("destroy deletes it"), "{detail}");
        }
        let (_, detail) = a("rejected").state_error("vpc-1").summary_and_detail();
        assert!(detail.contains("rejected the attachment") && detail.contains("auto-accept"), "{detail}");
        let (summary, detail) = a("deleted").state_error("vpc-1").summary_and_detail();
        assert_eq!(summary, "Transit gateway attachment tgw-attach-1 is deleted");
        assert!(!detail.contains("next apply deletes it"), "{detail}");
        let (summary, _) = a("pendingAcceptance").state_error("vpc-1").summary_and_detail();
        assert_eq!(summary, "Transit gateway attachment tgw-attach-1 awaits acceptance");
    }

    #[test]
    fn only_a_transit_gateway_of_another_account_without_auto_accept_needs_acceptance() {
        let gw =
            |id: &str, owner: &str, auto| Gateway { id: id.into(), owner_id: owner.into(), auto_accept_shared: auto };
        assert!(gw("tgw-1", "210987654321", false).needs_acceptance("123456789012"));
        assert!(!gw("tgw-1", "210987654321", true).needs_acceptance("123456789012"));
        assert!(!gw("tgw-1", "123456789012", false).needs_acceptance("123456789012"));
        assert!(!gw("tgw-1", "", false).needs_acceptance("123456789012"), "an owner AWS did not report");
        assert!(!gw("vgw-1", "210987654321", false).needs_acceptance("123456789012"));
    }
}
