//! Gateways and the VPC's attachments to them (transit gateway attachments, virtual
//! private gateway attachments): `find_gateway`, `find_attachments -> find_attachment`,
//! `ensure_attachment` with its waiter, `delete_attachment`.

use std::time::Duration;

use aws_sdk_ec2::types::{
    AttachmentStatus, AutoAcceptSharedAttachmentsValue, ResourceType, TransitGatewayAttachmentState,
};

use super::tags::{tag_spec, tags_of, Tags};
use super::{absent, counts_as_gone, Ec2, Filter, GatewayKind};
use crate::aws::{sdk_error, wait_until, AwsError};

/// A transit gateway or virtual private gateway, as far as the resource cares.
#[derive(Clone, Debug, PartialEq)]
pub struct Gateway {
    pub id: String,
    /// The account that owns it (a transit gateway may be shared from another account
    /// through AWS RAM); empty for a VGW.
    pub owner_id: String,
    /// A transit gateway that accepts attachments from other accounts by itself.
    pub auto_accept_shared: bool,
}

impl Gateway {
    /// Whether a new attachment of a VPC owned by `vpc_owner` waits in `pendingAcceptance`
    /// until the gateway's owner accepts it: a transit gateway of another account that
    /// does not auto-accept shared attachments.
    pub fn needs_acceptance(&self, vpc_owner: &str) -> bool {
        GatewayKind::of(&self.id) == GatewayKind::Transit
            && !self.owner_id.is_empty()
            && !vpc_owner.is_empty()
            && self.owner_id != vpc_owner
            && !self.auto_accept_shared
    }
}

/// A gateway as DescribeTransitGateways / DescribeVpnGateways report it.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewayRow {
    pub gateway: Gateway,
    /// `available`, `deleted`, ...
    pub state: String,
    /// A VGW's attachments: (VPC, state). Empty for a transit gateway.
    pub vpc_attachments: Vec<(String, String)>,
}

/// The transit gateway or VGW `gateway`; `None` when it does not exist (or is deleted).
pub async fn find_gateway(ec2: &dyn Ec2, gateway: &str) -> Result<Option<Gateway>, AwsError> {
    let live = |row: &GatewayRow| !matches!(row.state.as_str(), "deleted" | "deleting");
    let rows = absent(ec2.describe_gateways(gateway).await)?.unwrap_or_default();
    Ok(rows.into_iter().find(live).map(|r| r.gateway))
}

/// What an attachment's state means to the resource. Every state AWS documents for a
/// transit gateway attachment or a VGW attachment has exactly one phase; the order is
/// the preference when a VPC has several attachments to one gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttachmentPhase {
    /// Routes can use it: `available`, `modifying` (TGW); `attached` (VGW).
    Usable,
    /// On its way by itself: `initiating`, `initiatingRequest`, `pending`, `rollingBack`
    /// (ends available or failed) (TGW); `attaching` (VGW).
    InProgress,
    /// `pendingAcceptance`: waits until the transit gateway's owner account accepts it.
    PendingAcceptance,
    /// Will never be usable: `failing`, `failed`, `rejecting`, `rejected` (TGW).
    Failed,
    /// Going or gone: `deleting`, `deleted` (TGW); `detaching`, `detached` (VGW).
    Gone,
}

impl AttachmentPhase {
    pub fn of_transit(state: &TransitGatewayAttachmentState) -> AttachmentPhase {
        use TransitGatewayAttachmentState as S;
        match state {
            S::Available | S::Modifying => AttachmentPhase::Usable,
            S::Initiating | S::InitiatingRequest | S::Pending | S::RollingBack => AttachmentPhase::InProgress,
            S::PendingAcceptance => AttachmentPhase::PendingAcceptance,
            S::Failing | S::Failed | S::Rejecting | S::Rejected => AttachmentPhase::Failed,
            S::Deleting | S::Deleted => AttachmentPhase::Gone,
            // A state added to the API after this release: keep waiting (bounded by the timeout).
            _ => AttachmentPhase::InProgress,
        }
    }

    pub fn of_vpn(state: &AttachmentStatus) -> AttachmentPhase {
        match state {
            AttachmentStatus::Attached => AttachmentPhase::Usable,
            AttachmentStatus::Attaching => AttachmentPhase::InProgress,
            AttachmentStatus::Detaching | AttachmentStatus::Detached => AttachmentPhase::Gone,
            // A state added to the API after this release: keep waiting (bounded by the timeout).
            _ => AttachmentPhase::InProgress,
        }
    }

    /// The phase of a state as AWS names it, for the kind of gateway `gateway`.
    pub fn of(gateway: &str, state: &str) -> AttachmentPhase {
        match GatewayKind::of(gateway) {
            GatewayKind::Transit => AttachmentPhase::of_transit(&TransitGatewayAttachmentState::from(state)),
            GatewayKind::Vpn => AttachmentPhase::of_vpn(&AttachmentStatus::from(state)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    pub id: String,
    pub gateway_id: String,
    /// The state as AWS names it (`available`, `pendingAcceptance`, `attached`, ...).
    pub state: String,
    pub phase: AttachmentPhase,
    /// Subnets of a transit gateway attachment (empty for a VGW).
    pub subnet_ids: Vec<String>,
    pub tags: Tags,
}

impl Attachment {
    pub fn usable(&self) -> bool {
        self.phase == AttachmentPhase::Usable
    }

    /// The error that ends an apply finding this attachment in a state it cannot use.
    pub fn state_error(&self, vpc_id: &str) -> AwsError {
        AwsError::AttachmentState {
            id: self.id.clone(),
            gateway: self.gateway_id.clone(),
            vpc_id: vpc_id.to_string(),
            state: self.state.clone(),
        }
    }
}

/// Every attachment of `vpc_id` to `gateway` AWS reports (deleted ones included), best
/// first (see [`AttachmentPhase`]).
pub async fn find_attachments(ec2: &dyn Ec2, gateway: &str, vpc_id: &str) -> Result<Vec<Attachment>, AwsError> {
    let mut out: Vec<Attachment> = match GatewayKind::of(gateway) {
        GatewayKind::Transit => ec2.describe_transit_attachments(gateway, vpc_id).await?,
        GatewayKind::Vpn => absent(ec2.describe_gateways(gateway).await)?
            .unwrap_or_default()
            .iter()
            .flat_map(|g| &g.vpc_attachments)
            .filter(|(vpc, _)| vpc == vpc_id)
            .map(|(_, state)| Attachment {
                id: format!("{gateway}:{vpc_id}"),
                gateway_id: gateway.to_string(),
                state: state.clone(),
                phase: AttachmentPhase::of(gateway, state),
                subnet_ids: Vec::new(),
                tags: Vec::new(),
            })
            .collect(),
    };
    out.sort_by_key(|a| a.phase);
    Ok(out)
}

/// The attachment of `vpc_id` to the transit gateway or VGW `gateway` that counts:
/// usable first, then in progress, awaiting acceptance, failed; never a deleted one
/// (a failed or rejected attachment is found, so that it can be replaced or deleted).
pub async fn find_attachment(ec2: &dyn Ec2, gateway: &str, vpc_id: &str) -> Result<Option<Attachment>, AwsError> {
    Ok(find_attachments(ec2, gateway, vpc_id).await?.into_iter().find(|a| a.phase != AttachmentPhase::Gone))
}

/// Attaches the VPC to the gateway (adopting an existing attachment, replacing a failed
/// or rejected one) and waits until the attachment is usable or waits for the gateway
/// owner's acceptance (the caller decides what that means: see the phase). An
/// attachment that fails, is rejected or deleted ends the wait at the next poll with
/// [`AwsError::AttachmentState`]. The flag says whether this call created it (else it
/// found it: made earlier, by hand, or by another cluster's resource).
pub async fn ensure_attachment(
    ec2: &dyn Ec2,
    gateway: &str,
    vpc_id: &str,
    subnet_ids: &[String],
    tags: &Tags,
    timeout: Duration,
    recorded: bool,
) -> Result<(Attachment, bool), AwsError> {
    // No attachment recorded for this gateway: attach first. EC2 allows one live
    // attachment of a VPC to a transit gateway, so one left by an interrupted run (or
    // made by someone else) answers DuplicateTransitGatewayAttachment, and is adopted
    // below: a first apply costs no describe before its create.
    if !recorded && GatewayKind::of(gateway) == GatewayKind::Transit {
        if let Some(made) = create_transit_attachment(ec2, gateway, vpc_id, subnet_ids, tags).await? {
            return match made.phase {
                AttachmentPhase::Usable | AttachmentPhase::PendingAcceptance => Ok((made, true)),
                _ => wait_for_attachment(ec2, gateway, vpc_id, Some(&made.id), timeout).await.map(|a| (a, true)),
            };
        }
    }
    let mut created = true;
    let watch = match find_attachment(ec2, gateway, vpc_id).await? {
        Some(a) => match a.phase {
            AttachmentPhase::Usable | AttachmentPhase::PendingAcceptance => return Ok((a, false)),
            AttachmentPhase::InProgress => {
                created = false;
                Some(a.id)
            }
            AttachmentPhase::Failed | AttachmentPhase::Gone => {
                // It never becomes usable: delete it, then attach again.
                tracing::info!(target: "hybridnet::aws", attachment = %a.id, state = %a.state,
                    "replacing an attachment that cannot become usable");
                remove_attachment(ec2, &a, vpc_id, timeout).await?;
                create_attachment(ec2, gateway, vpc_id, subnet_ids, tags).await?
            }
        },
        None => create_attachment(ec2, gateway, vpc_id, subnet_ids, tags).await?,
    };
    wait_for_attachment(ec2, gateway, vpc_id, watch.as_deref(), timeout).await.map(|a| (a, created))
}

/// CreateTransitGatewayVpcAttachment: the new attachment as the answer describes it,
/// `None` when one exists already (DuplicateTransitGatewayAttachment).
async fn create_transit_attachment(
    ec2: &dyn Ec2,
    gateway: &str,
    vpc_id: &str,
    subnet_ids: &[String],
    tags: &Tags,
) -> Result<Option<Attachment>, AwsError> {
    match ec2.create_transit_attachment(gateway, vpc_id, subnet_ids, tags).await {
        Ok(a) => Ok(a.filter(|a| !a.id.is_empty())),
        Err(e) if e.code() == Some("DuplicateTransitGatewayAttachment") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates the attachment; the ID of a new transit gateway attachment (`None` for a VGW,
/// or when an attachment made by an earlier, interrupted run was there already).
async fn create_attachment(
    ec2: &dyn Ec2,
    gateway: &str,
    vpc_id: &str,
    subnet_ids: &[String],
    tags: &Tags,
) -> Result<Option<String>, AwsError> {
    match GatewayKind::of(gateway) {
        GatewayKind::Transit => {
            Ok(create_transit_attachment(ec2, gateway, vpc_id, subnet_ids, tags).await?.map(|a| a.id))
        }
        GatewayKind::Vpn => {
            if let Err(err) = ec2.attach_vpn_gateway(gateway, vpc_id).await {
                // Only an attachment that exists counts as done (a retried attach whose
                // first attempt went through); anything else is the user's to see now.
                if find_attachment(ec2, gateway, vpc_id).await?.is_none() {
                    return Err(err);
                }
            }
            Ok(None)
        }
    }
}

/// Polls the attachment (`id`, else the best one) until it is usable or awaits
/// acceptance; a state it cannot leave ends the wait at once.
async fn wait_for_attachment(
    ec2: &dyn Ec2,
    gateway: &str,
    vpc_id: &str,
    id: Option<&str>,
    timeout: Duration,
) -> Result<Attachment, AwsError> {
    let is_tgw = GatewayKind::of(gateway) == GatewayKind::Transit;
    wait_until(&format!("the attachment of {vpc_id} to {gateway}"), timeout, || async {
        let all = find_attachments(ec2, gateway, vpc_id).await?;
        let found = match id {
            Some(id) => all.into_iter().find(|a| a.id == id),
            None => all.into_iter().find(|a| a.phase != AttachmentPhase::Gone),
        };
        // Not visible yet (EC2 reads are eventually consistent): poll again.
        let Some(a) = found else { return Ok(None) };
        match a.phase {
            AttachmentPhase::Usable | AttachmentPhase::PendingAcceptance => Ok(Some(a)),
            AttachmentPhase::InProgress => Ok(None),
            AttachmentPhase::Failed => Err(a.state_error(vpc_id)),
            // Our transit gateway attachment was deleted while we waited. A VGW's
            // detached entry may be an older one's: the new attach has not shown yet.
            AttachmentPhase::Gone if is_tgw => Err(a.state_error(vpc_id)),
            AttachmentPhase::Gone => Ok(None),
        }
    })
    .await
}

/// Deletes the attachment (TGW) or detaches the VGW, and waits until it is gone; a
/// failed or rejected attachment is deleted too.
pub async fn delete_attachment(ec2: &dyn Ec2, gateway: &str, vpc_id: &str, timeout: Duration) -> Result<(), AwsError> {
    let Some(a) = find_attachment(ec2, gateway, vpc_id).await? else { return Ok(()) };
    remove_attachment(ec2, &a, vpc_id, timeout).await
}

/// Deletes one attachment and waits until AWS reports it deleting or gone.
async fn remove_attachment(ec2: &dyn Ec2, a: &Attachment, vpc_id: &str, timeout: Duration) -> Result<(), AwsError> {
    let gateway = a.gateway_id.as_str();
    let live = |all: &[Attachment]| all.iter().any(|x| x.id == a.id && x.phase != AttachmentPhase::Gone);
    if a.phase == AttachmentPhase::Gone {
        return Ok(());
    }
    let r = match GatewayKind::of(gateway) {
        GatewayKind::Transit => match ec2.delete_transit_attachment(&a.id).await {
            // The answer says deleting (or deleted): what the wait below waits for.
            Ok(Some(state)) if AttachmentPhase::of(gateway, &state) == AttachmentPhase::Gone => return Ok(()),
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        },
        GatewayKind::Vpn => ec2.detach_vpn_gateway(gateway, vpc_id).await,
    };
    if let Err(e) = r {
        // A failed or rejected attachment AWS refuses to delete attaches nothing, and
        // AWS removes it by itself.
        if a.phase == AttachmentPhase::Failed && e.code() == Some("IncorrectState") {
            return Ok(());
        }
        // A retried delete whose first attempt went through can fail (moto answers it with
        // a bare HTTP 500): if the attachment is already going away, that is success.
        if !counts_as_gone(&e) && live(&find_attachments(ec2, gateway, vpc_id).await?) {
            return Err(e);
        }
    }
    wait_until(&format!("the detachment of {vpc_id} from {gateway}"), timeout, || async {
        Ok((!live(&find_attachments(ec2, gateway, vpc_id).await?)).then_some(()))
    })
    .await
}

/// Changes the subnets of a transit gateway attachment in place.
pub async fn modify_attachment_subnets(
    ec2: &dyn Ec2,
    attachment_id: &str,
    add: &[String],
    remove: &[String],
) -> Result<(), AwsError> {
    if add.is_empty() && remove.is_empty() {
        return Ok(());
    }
    ec2.modify_transit_attachment(attachment_id, add, remove).await
}

// ---- the SDK's side

fn transit_attachment_of(a: &aws_sdk_ec2::types::TransitGatewayVpcAttachment, gateway: &str) -> Attachment {
    Attachment {
        id: a.transit_gateway_attachment_id().unwrap_or_default().to_string(),
        gateway_id: gateway.to_string(),
        state: a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
        phase: a.state().map_or(AttachmentPhase::InProgress, AttachmentPhase::of_transit),
        subnet_ids: a.subnet_ids().to_vec(),
        tags: tags_of(a.tags()),
    }
}

pub(super) async fn sdk_describe_gateways(c: &aws_sdk_ec2::Client, gateway: &str) -> Result<Vec<GatewayRow>, AwsError> {
    match GatewayKind::of(gateway) {
        GatewayKind::Transit => {
            let sent =
                c.describe_transit_gateways().filters(Filter::new("transit-gateway-id", [gateway]).sdk()).send().await;
            let out = sent.map_err(|e| sdk_error("ec2:DescribeTransitGateways", e))?;
            Ok(out
                .transit_gateways()
                .iter()
                .map(|g| GatewayRow {
                    gateway: Gateway {
                        id: gateway.to_string(),
                        owner_id: g.owner_id().unwrap_or_default().to_string(),
                        auto_accept_shared: g.options().and_then(|o| o.auto_accept_shared_attachments())
                            == Some(&AutoAcceptSharedAttachmentsValue::Enable),
                    },
                    state: g.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    vpc_attachments: Vec::new(),
                })
                .collect())
        }
        GatewayKind::Vpn => {
            let sent = c.describe_vpn_gateways().filters(Filter::new("vpn-gateway-id", [gateway]).sdk()).send().await;
            let out = sent.map_err(|e| sdk_error("ec2:DescribeVpnGateways", e))?;
            Ok(out
                .vpn_gateways()
                .iter()
                .map(|g| GatewayRow {
                    gateway: Gateway { id: gateway.to_string(), owner_id: String::new(), auto_accept_shared: false },
                    state: g.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    vpc_attachments: g
                        .vpc_attachments()
                        .iter()
                        .map(|a| {
                            let state = a.state().map(|s| s.as_str().to_string());
                            // No state reported: attaching (in progress).
                            (a.vpc_id().unwrap_or_default().to_string(), state.unwrap_or_else(|| "attaching".into()))
                        })
                        .collect(),
                })
                .collect())
        }
    }
}

pub(super) async fn sdk_describe_transit_attachments(
    c: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
) -> Result<Vec<Attachment>, AwsError> {
    let out = c
        .describe_transit_gateway_vpc_attachments()
        .filters(Filter::new("transit-gateway-id", [gateway]).sdk())
        .filters(Filter::new("vpc-id", [vpc_id]).sdk())
        .send()
        .await
        .map_err(|e| sdk_error("ec2:DescribeTransitGatewayVpcAttachments", e))?;
    Ok(out.transit_gateway_vpc_attachments().iter().map(|a| transit_attachment_of(a, gateway)).collect())
}

pub(super) async fn sdk_create_transit_attachment(
    c: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
    subnet_ids: &[String],
    tags: &Tags,
) -> Result<Option<Attachment>, AwsError> {
    let out = c
        .create_transit_gateway_vpc_attachment()
        .transit_gateway_id(gateway)
        .vpc_id(vpc_id)
        .set_subnet_ids(Some(subnet_ids.to_vec()))
        .tag_specifications(tag_spec(ResourceType::TransitGatewayAttachment, tags))
        .send()
        .await
        .map_err(|e| sdk_error("ec2:CreateTransitGatewayVpcAttachment", e))?;
    Ok(out.transit_gateway_vpc_attachment().map(|a| transit_attachment_of(a, gateway)))
}

pub(super) async fn sdk_delete_transit_attachment(
    c: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Option<String>, AwsError> {
    let sent = c.delete_transit_gateway_vpc_attachment().transit_gateway_attachment_id(id).send().await;
    let out = sent.map_err(|e| sdk_error("ec2:DeleteTransitGatewayVpcAttachment", e))?;
    Ok(out.transit_gateway_vpc_attachment().and_then(|a| a.state()).map(|s| s.as_str().to_string()))
}

pub(super) async fn sdk_attach_vpn_gateway(
    c: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
) -> Result<(), AwsError> {
    let sent = c.attach_vpn_gateway().vpn_gateway_id(gateway).vpc_id(vpc_id).send().await;
    sent.map(drop).map_err(|e| sdk_error("ec2:AttachVpnGateway", e))
}

pub(super) async fn sdk_detach_vpn_gateway(
    c: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
) -> Result<(), AwsError> {
    let sent = c.detach_vpn_gateway().vpn_gateway_id(gateway).vpc_id(vpc_id).send().await;
    sent.map(drop).map_err(|e| sdk_error("ec2:DetachVpnGateway", e))
}

pub(super) async fn sdk_modify_transit_attachment(
    c: &aws_sdk_ec2::Client,
    attachment_id: &str,
    add: &[String],
    remove: &[String],
) -> Result<(), AwsError> {
    c.modify_transit_gateway_vpc_attachment()
        .transit_gateway_attachment_id(attachment_id)
        .set_add_subnet_ids((!add.is_empty()).then(|| add.to_vec()))
        .set_remove_subnet_ids((!remove.is_empty()).then(|| remove.to_vec()))
        .send()
        .await
        .map(drop)
        .map_err(|e| sdk_error("ec2:ModifyTransitGatewayVpcAttachment", e))
}
