//! Reads handed from one phase to the next within one provider process, so nothing
//! is read twice per process: what refresh read, plan uses; what plan read, apply
//! uses (Terraform 1.0 plans again in the apply process, then applies).
//!
//! A read is handed over at most once: [`Phase::Plan`] takes what an earlier phase
//! left (or reads it) and leaves it for the next, [`Phase::Apply`] takes it and leaves
//! nothing, so an apply's writes are never followed by a read of what came before
//! them. Every entry was read by the phase just before, in the same process, moments
//! earlier; the apply's own conflict handling (a route that appeared, a duplicate
//! rule) covers a change made by another writer in between.

use std::collections::HashMap;
use std::sync::Mutex;

use super::ec2::{self, Attachment, Interface, RouteTable, SgRule};
use super::AwsError;

/// Which phase reads, and so whether the read is left for the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// ReadResource: always reads, leaves the result for plan.
    Refresh,
    /// PlanResourceChange: uses what refresh left, else reads; leaves it for apply.
    Plan,
    /// ApplyResourceChange: uses what plan left, else reads; leaves nothing.
    Apply,
}

impl Phase {
    fn uses_handover(self) -> bool {
        self != Phase::Refresh
    }

    fn leaves_handover(self) -> bool {
        self != Phase::Apply
    }
}

#[derive(Default)]
pub struct Handover {
    route_tables: Mutex<HashMap<String, RouteTable>>,
    rules: Mutex<HashMap<String, Vec<SgRule>>>,
    attachments: Mutex<HashMap<(String, String), Option<Attachment>>>,
    interfaces: Mutex<HashMap<String, Vec<Interface>>>,
    /// Every route this process wrote, by (route table, destination): its target after
    /// the write, `None` once deleted. Not a read handed over: kept for the whole
    /// process, so a decision about an attachment counts neither a route this process
    /// already moved away from the gateway that a (lagging) read still shows there, nor
    /// one that a resource destroyed in parallel deleted moments before.
    routes_written: Mutex<HashMap<(String, String), Option<String>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind: still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Handover {
    /// The route tables `ids` (those that exist), in one DescribeRouteTables for the
    /// ones not handed over.
    pub async fn route_tables(
        &self,
        ec2: &dyn super::Ec2,
        ids: &[String],
        phase: Phase,
    ) -> Result<Vec<RouteTable>, AwsError> {
        let mut found: Vec<RouteTable> = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        {
            let mut map = lock(&self.route_tables);
            for id in ids {
                match map.remove(id).filter(|_| phase.uses_handover()) {
                    Some(t) => found.push(t),
                    None => missing.push(id.clone()),
                }
            }
        }
        if !missing.is_empty() {
            found.extend(ec2::find_route_tables(ec2, &missing).await?);
        }
        if phase.leaves_handover() {
            let mut map = lock(&self.route_tables);
            for t in &found {
                map.insert(t.id.clone(), t.clone());
            }
        }
        Ok(found)
    }

    /// Every rule of security group `group_id`.
    pub async fn rules(&self, ec2: &dyn super::Ec2, group_id: &str, phase: Phase) -> Result<Vec<SgRule>, AwsError> {
        hand(&self.rules, group_id.to_string(), phase, ec2::find_security_group_rules(ec2, group_id)).await
    }

    /// The attachment of `vpc_id` to `gateway`, as [`ec2::find_attachment`] reports it.
    pub async fn attachment(
        &self,
        ec2: &dyn super::Ec2,
        gateway: &str,
        vpc_id: &str,
        phase: Phase,
    ) -> Result<Option<Attachment>, AwsError> {
        let key = (gateway.to_string(), vpc_id.to_string());
        hand(&self.attachments, key, phase, ec2::find_attachment(ec2, gateway, vpc_id)).await
    }

    /// The network interfaces in security group `group_id`.
    pub async fn interfaces(
        &self,
        ec2: &dyn super::Ec2,
        group_id: &str,
        phase: Phase,
    ) -> Result<Vec<Interface>, AwsError> {
        hand(&self.interfaces, group_id.to_string(), phase, ec2::find_interfaces_in_group(ec2, group_id)).await
    }
}

impl Handover {
    /// Records a route this process created or re-pointed to `target`, or (`None`)
    /// deleted.
    pub fn route_written(&self, route_table: &str, cidr: &str, target: Option<&str>) {
        lock(&self.routes_written).insert((route_table.to_string(), cidr.to_string()), target.map(str::to_string));
    }

    /// Whether this process last wrote the route `cidr` of `route_table` somewhere other
    /// than `gateway` (deleted it, or re-pointed it elsewhere): a read showing it at
    /// `gateway` is older than that write.
    pub fn moved_away(&self, route_table: &str, cidr: &str, gateway: &str) -> bool {
        lock(&self.routes_written)
            .get(&(route_table.to_string(), cidr.to_string()))
            .is_some_and(|t| t.as_deref() != Some(gateway))
    }
}

/// One read of one object: what the phase before left under `key` (when `phase` uses
/// it), else `read` (a future not polled unless needed); left for the next phase when
/// `phase` leaves one.
async fn hand<K: std::hash::Hash + Eq, V: Clone>(
    map: &Mutex<HashMap<K, V>>,
    key: K,
    phase: Phase,
    read: impl std::future::Future<Output = Result<V, AwsError>>,
) -> Result<V, AwsError> {
    let handed = lock(map).remove(&key).filter(|_| phase.uses_handover());
    let value = match handed {
        Some(v) => v,
        None => read.await?,
    };
    if phase.leaves_handover() {
        lock(map).insert(key, value.clone());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(id: &str) -> RouteTable {
        RouteTable {
            id: id.into(),
            vpc_id: "vpc-1".into(),
            routes: Vec::new(),
            associations: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// A client whose every call fails at once (nothing listens on port 9): a test
    /// that reaches AWS sees an error instead of a handed-over value.
    fn offline_client() -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(aws_sdk_ec2::config::Credentials::for_tests())
            .retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    #[tokio::test]
    async fn plan_uses_what_refresh_left_and_apply_takes_it_once() {
        let ec2 = offline_client();
        let h = Handover::default();
        lock(&h.route_tables).insert("rtb-1".into(), table("rtb-1"));
        lock(&h.rules).insert("sg-1".into(), Vec::new());

        let got = h.route_tables(&ec2, &["rtb-1".into()], Phase::Plan).await.expect("handed over, no request");
        assert_eq!(got, vec![table("rtb-1")]);
        // Plan leaves it for apply; apply takes it and leaves nothing.
        let got = h.route_tables(&ec2, &["rtb-1".into()], Phase::Apply).await.expect("handed over, no request");
        assert_eq!(got, vec![table("rtb-1")]);
        assert!(lock(&h.route_tables).is_empty());
        // A second apply read goes to AWS (which fails here).
        assert!(h.route_tables(&ec2, &["rtb-1".into()], Phase::Apply).await.is_err());

        assert_eq!(h.rules(&ec2, "sg-1", Phase::Apply).await.expect("handed over"), Vec::new());
        assert!(h.rules(&ec2, "sg-1", Phase::Plan).await.is_err(), "taken by apply, so read again");
    }

    #[test]
    fn a_route_moved_away_is_the_last_write_of_this_process() {
        let h = Handover::default();
        assert!(!h.moved_away("rtb-1", "10.80.0.0/16", "tgw-1"), "never written");
        h.route_written("rtb-1", "10.80.0.0/16", None);
        assert!(h.moved_away("rtb-1", "10.80.0.0/16", "tgw-1"), "deleted");
        h.route_written("rtb-1", "10.80.0.0/16", Some("tgw-1"));
        assert!(!h.moved_away("rtb-1", "10.80.0.0/16", "tgw-1"), "created again at tgw-1");
        h.route_written("rtb-1", "10.80.0.0/16", Some("tgw-2"));
        assert!(h.moved_away("rtb-1", "10.80.0.0/16", "tgw-1"), "re-pointed to tgw-2");
        assert!(!h.moved_away("rtb-1", "10.80.0.0/16", "tgw-2"));
        assert!(!h.moved_away("rtb-2", "10.80.0.0/16", "tgw-1"), "another table");
    }

    #[tokio::test]
    async fn refresh_always_reads() {
        let ec2 = offline_client();
        let h = Handover::default();
        lock(&h.rules).insert("sg-1".into(), Vec::new());
        assert!(h.rules(&ec2, "sg-1", Phase::Refresh).await.is_err());
        assert!(lock(&h.rules).is_empty(), "a failed read leaves nothing");
    }
}
