//! Security group rules: ONE row type ([`SgRule`]) and one reader
//! (`find_rules`, filtered by group or tag, every page), `authorize_rules` (nothing
//! created twice, every ID reported), `revoke_rules`.

use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType};

use super::tags::{tag_spec, tags_of, Tags};
use super::{absent, Ec2, Filter};
use crate::aws::{sdk_error, wait_until, AwsError};

/// A security group rule as EC2 reports it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SgRule {
    pub id: String,
    /// The group the rule belongs to.
    pub group_id: String,
    pub egress: bool,
    /// `tcp`, `udp`, `-1` (all), ...
    pub protocol: String,
    /// -1 when the protocol has no ports.
    pub from_port: i32,
    pub to_port: i32,
    /// The IPv4 CIDR (`None` for a rule naming IPv6, another group or a prefix list).
    pub cidr: Option<String>,
    /// An IPv6 rule (IPv4 and IPv6 rules have separate quotas).
    pub ipv6: bool,
    pub description: String,
    pub tags: Tags,
}

/// A rule to authorize (its direction is the request's).
#[derive(Clone, Debug, PartialEq)]
pub struct NewRule {
    /// `tcp` or `udp`.
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub cidr: String,
    pub description: String,
}

/// The rules matching `filters`: one paginated DescribeSecurityGroupRules.
pub async fn find_rules(ec2: &dyn Ec2, filters: &[Filter]) -> Result<Vec<SgRule>, AwsError> {
    ec2.describe_security_group_rules(filters).await
}

/// All rules of a security group.
pub async fn find_security_group_rules(ec2: &dyn Ec2, group_id: &str) -> Result<Vec<SgRule>, AwsError> {
    find_rules(ec2, &[Filter::new("group-id", [group_id])]).await
}

/// The rules of all `group_ids` in one describe (a many-valued `group-id` filter). No
/// call when `group_ids` is empty.
pub async fn find_rules_of_groups(ec2: &dyn Ec2, group_ids: &[String]) -> Result<Vec<SgRule>, AwsError> {
    if group_ids.is_empty() {
        return Ok(Vec::new());
    }
    find_rules(ec2, &[Filter::new("group-id", group_ids.iter().cloned())]).await
}

/// Security group rules in any group carrying tag `key` = `value` (ours, for import),
/// with their group.
pub async fn find_rules_by_tag(ec2: &dyn Ec2, key: &str, value: &str) -> Result<Vec<(String, SgRule)>, AwsError> {
    let rules = find_rules(ec2, &[Filter::tag(key, value)]).await?;
    Ok(rules.into_iter().map(|r| (r.group_id.clone(), r)).collect())
}

/// Whether the security group exists.
pub async fn security_group_exists(ec2: &dyn Ec2, group_id: &str) -> Result<bool, AwsError> {
    let found = absent(ec2.describe_security_groups(&[Filter::new("group-id", [group_id])]).await)?;
    Ok(found.is_some_and(|ids| !ids.is_empty()))
}

/// Whether `r` is the rule `want` asks for (direction, protocol, ports, CIDR).
fn is_rule(r: &SgRule, egress: bool, want: &NewRule) -> bool {
    r.egress == egress
        && r.protocol == want.protocol
        && r.from_port == want.from_port
        && r.to_port == want.to_port
        && r.cidr.as_deref() == Some(want.cidr.as_str())
}

/// Authorizes `rules`, all inbound or all outbound (`egress`), in one request, and
/// reports each rule's ID through `done(index into rules, id)` as it is known.
///
/// Reads may lag behind writes (EC2 is eventually consistent), so nothing is concluded
/// from a read that may predate this call:
/// - a successful answer means every rule of the request exists; the IDs the answer
///   lacks are waited for ([`wait_for_rules`]), never sent again;
/// - `InvalidPermission.Duplicate` refuses the whole request because one of its rules
///   exists (it appeared meanwhile, or an interrupted attempt went through): the group
///   is read once, and what it does not show yet is sent rule by rule, where a
///   Duplicate names exactly one rule that exists, to be waited for.
///
/// So nothing is created twice, and every rule's ID is reported.
pub async fn authorize_rules(
    ec2: &dyn Ec2,
    group_id: &str,
    egress: bool,
    rules: &[NewRule],
    tags: &Tags,
    mut done: impl FnMut(usize, String),
) -> Result<(), AwsError> {
    if rules.is_empty() {
        return Ok(());
    }
    let all: Vec<usize> = (0..rules.len()).collect();
    let mut exists: Vec<usize> = Vec::new();
    let mut pending = all.clone();
    match authorize_request(ec2, group_id, egress, rules, &all, tags).await {
        Ok(created) => {
            report_rules(rules, egress, &created, &mut pending, &mut done);
            exists.append(&mut pending);
        }
        Err(e) if e.code() == Some("InvalidPermission.Duplicate") => {
            if rules.len() == 1 {
                exists.append(&mut pending);
            } else {
                report_rules(rules, egress, &find_security_group_rules(ec2, group_id).await?, &mut pending, &mut done);
                for i in std::mem::take(&mut pending) {
                    match authorize_request(ec2, group_id, egress, rules, &[i], tags).await {
                        Ok(created) => {
                            let mut one = vec![i];
                            report_rules(rules, egress, &created, &mut one, &mut done);
                            exists.extend(one);
                        }
                        Err(e) if e.code() == Some("InvalidPermission.Duplicate") => exists.push(i),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Err(e) => return Err(e),
    }
    wait_for_rules(ec2, group_id, egress, rules, exists, &mut done).await
}

/// One Authorize request for `rules[which]`: the rules the answer names.
async fn authorize_request(
    ec2: &dyn Ec2,
    group_id: &str,
    egress: bool,
    rules: &[NewRule],
    which: &[usize],
    tags: &Tags,
) -> Result<Vec<SgRule>, AwsError> {
    let chosen: Vec<NewRule> = which.iter().filter_map(|&i| rules.get(i)).cloned().collect();
    ec2.authorize_rules(group_id, egress, &chosen, tags).await
}

/// Reports the rules of `pending` that `found` holds, and keeps the others pending.
fn report_rules(
    rules: &[NewRule],
    egress: bool,
    found: &[SgRule],
    pending: &mut Vec<usize>,
    done: &mut impl FnMut(usize, String),
) {
    pending.retain(|&i| {
        let Some(want) = rules.get(i) else { return false };
        match found.iter().find(|r| is_rule(r, egress, want)) {
            Some(r) => {
                done(i, r.id.clone());
                false
            }
            None => true,
        }
    });
}

/// Waits until the group shows the rules `pending` (AWS said they exist: created, or
/// duplicates), reading with backoff until the operation's deadline.
async fn wait_for_rules(
    ec2: &dyn Ec2,
    group_id: &str,
    egress: bool,
    rules: &[NewRule],
    mut pending: Vec<usize>,
    done: &mut impl FnMut(usize, String),
) -> Result<(), AwsError> {
    if pending.is_empty() {
        return Ok(());
    }
    let what = match pending.first().and_then(|&i| rules.get(i)) {
        Some(r) => format!(
            "the {} rule for {} port {} in {group_id} (AWS reported it exists) to show in its rules",
            if egress { "outbound" } else { "inbound" },
            r.cidr,
            r.from_port
        ),
        None => format!("rules in {group_id}"),
    };
    // The first read comes at once (a consistent read shows them already), then with
    // backoff. Each read's rules are kept so that, on a timeout too, the rules already
    // shown are reported.
    let timeout = crate::aws::throttle::deadline().saturating_duration_since(tokio::time::Instant::now());
    let last = std::sync::Mutex::new(Vec::new());
    let waited = wait_until(&what, timeout, || async {
        let found = find_security_group_rules(ec2, group_id).await?;
        let all =
            pending.iter().all(|&i| rules.get(i).is_none_or(|want| found.iter().any(|r| is_rule(r, egress, want))));
        *last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = found;
        Ok(all.then_some(()))
    })
    .await;
    let found = last.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    report_rules(rules, egress, &found, &mut pending, done);
    waited
}

/// Revokes rules by ID (ingress and egress separately); missing ones count as revoked.
pub async fn revoke_rules(
    ec2: &dyn Ec2,
    group_id: &str,
    ingress: &[String],
    egress: &[String],
) -> Result<(), AwsError> {
    for (egress, ids) in [(false, ingress), (true, egress)] {
        if !ids.is_empty() {
            absent(ec2.revoke_rules(group_id, egress, ids).await)?;
        }
    }
    Ok(())
}

// ---- the SDK's side

fn sg_rule_of(r: &aws_sdk_ec2::types::SecurityGroupRule) -> SgRule {
    SgRule {
        id: r.security_group_rule_id().unwrap_or_default().to_string(),
        group_id: r.group_id().unwrap_or_default().to_string(),
        egress: r.is_egress().unwrap_or(false),
        protocol: r.ip_protocol().unwrap_or_default().to_string(),
        from_port: r.from_port().unwrap_or(-1),
        to_port: r.to_port().unwrap_or(-1),
        cidr: r.cidr_ipv4().map(str::to_string),
        ipv6: r.cidr_ipv6().is_some(),
        description: r.description().unwrap_or_default().to_string(),
        tags: tags_of(r.tags()),
    }
}

pub(super) async fn sdk_describe_security_group_rules(
    c: &aws_sdk_ec2::Client,
    filters: &[Filter],
) -> Result<Vec<SgRule>, AwsError> {
    let mut out = Vec::new();
    let mut pages =
        c.describe_security_group_rules().set_filters(Some(Filter::sdk_all(filters))).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeSecurityGroupRules", e))?;
        out.extend(page.security_group_rules().iter().map(sg_rule_of));
    }
    Ok(out)
}

pub(super) async fn sdk_describe_security_groups(
    c: &aws_sdk_ec2::Client,
    filters: &[Filter],
) -> Result<Vec<String>, AwsError> {
    let sent = c.describe_security_groups().set_filters(Some(Filter::sdk_all(filters))).send().await;
    let out = sent.map_err(|e| sdk_error("ec2:DescribeSecurityGroups", e))?;
    Ok(out.security_groups().iter().map(|g| g.group_id().unwrap_or_default().to_string()).collect())
}

pub(super) async fn sdk_authorize_rules(
    c: &aws_sdk_ec2::Client,
    group_id: &str,
    egress: bool,
    rules: &[NewRule],
    tags: &Tags,
) -> Result<Vec<SgRule>, AwsError> {
    let operation = if egress { "ec2:AuthorizeSecurityGroupEgress" } else { "ec2:AuthorizeSecurityGroupIngress" };
    let perms: Vec<IpPermission> = rules
        .iter()
        .map(|r| {
            IpPermission::builder()
                .ip_protocol(&r.protocol)
                .from_port(r.from_port)
                .to_port(r.to_port)
                .ip_ranges(IpRange::builder().cidr_ip(&r.cidr).description(&r.description).build())
                .build()
        })
        .collect();
    let spec = tag_spec(ResourceType::SecurityGroupRule, tags);
    // Two operations with one shape: the SDK gives each its own builder type.
    if egress {
        let req = c.authorize_security_group_egress().group_id(group_id).set_ip_permissions(Some(perms));
        let sent = req.tag_specifications(spec).send().await;
        sent.map(|o| o.security_group_rules().iter().map(sg_rule_of).collect()).map_err(|e| sdk_error(operation, e))
    } else {
        let req = c.authorize_security_group_ingress().group_id(group_id).set_ip_permissions(Some(perms));
        let sent = req.tag_specifications(spec).send().await;
        sent.map(|o| o.security_group_rules().iter().map(sg_rule_of).collect()).map_err(|e| sdk_error(operation, e))
    }
}

pub(super) async fn sdk_revoke_rules(
    c: &aws_sdk_ec2::Client,
    group_id: &str,
    egress: bool,
    ids: &[String],
) -> Result<(), AwsError> {
    let ids = Some(ids.to_vec());
    // Two operations with one shape: the SDK gives each its own builder type.
    if egress {
        let req = c.revoke_security_group_egress().group_id(group_id).set_security_group_rule_ids(ids);
        req.send().await.map(drop).map_err(|e| sdk_error("ec2:RevokeSecurityGroupEgress", e))
    } else {
        let req = c.revoke_security_group_ingress().group_id(group_id).set_security_group_rule_ids(ids);
        req.send().await.map(drop).map_err(|e| sdk_error("ec2:RevokeSecurityGroupIngress", e))
    }
}
