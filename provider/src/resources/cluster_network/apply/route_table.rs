//! Step 2, the dedicated route table and its subnet associations (a twin left by a
//! retried create is deleted while still empty).

use tfplugin5::typed::Tf;

use super::super::model::{ClusterNetworkModel, OWNER_TAG};
use super::{Converge, Progress};
use crate::aws::{ec2, AwsError};

impl Converge<'_> {
    /// 2. The dedicated route table, and its subnet associations.
    pub(super) async fn route_table(
        &self,
        state: &mut ClusterNetworkModel,
        progress: &mut Progress,
    ) -> Result<Option<String>, AwsError> {
        let (ec2, d, vpc_id) = (self.ec2(), self.d, &self.vpc_id);
        if !d.create_route_table {
            state.route_table_id = Tf::Null;
            return Ok(None);
        }
        let existing = match &self.prior_route_table() {
            Some(id) => ec2::find_route_tables(ec2, std::slice::from_ref(id)).await?.into_iter().next(),
            None => ec2::find_route_tables_by_tag(ec2, vpc_id, OWNER_TAG, &d.cluster_name).await?.into_iter().next(),
        };
        let rt = match existing {
            Some(rt) => rt,
            None => {
                let id = ec2::create_route_table(ec2, vpc_id, &self.tags).await?;
                progress.record(|p| p.route_table_id = Some(id.clone()));
                // A retried CreateRouteTable whose first answer was lost leaves a twin:
                // keep ours, delete tagged twins that are still empty.
                let tagged = ec2::find_route_tables_by_tag(ec2, vpc_id, OWNER_TAG, &d.cluster_name).await?;
                for twin in tagged.iter().filter(|t| t.id != id) {
                    let empty = twin.associations.is_empty() && twin.routes.iter().all(|r| r.target_id == "local");
                    if empty {
                        ec2::delete_route_table(ec2, &twin.id).await?;
                    }
                }
                tagged.into_iter().find(|t| t.id == id).unwrap_or(ec2::RouteTable {
                    id,
                    vpc_id: vpc_id.clone(),
                    routes: Vec::new(),
                    associations: Vec::new(),
                    tags: Vec::new(),
                })
            }
        };
        progress.record(|p| p.route_table_id = Some(rt.id.clone()));
        for subnet in &d.route_table_subnet_ids {
            if !rt.associations.iter().any(|(_, s)| s == subnet) {
                ec2::associate_route_table(ec2, &rt.id, subnet).await?;
            }
        }
        for (assoc, subnet) in &rt.associations {
            if !d.route_table_subnet_ids.contains(subnet) {
                ec2::disassociate_route_table(ec2, assoc).await?;
            }
        }
        state.route_table_id = Tf::Known(rt.id.clone());
        Ok(Some(rt.id))
    }
}
