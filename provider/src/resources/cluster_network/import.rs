//! ImportResourceState: the cluster name is the ID; the read that follows rebuilds the
//! whole state from AWS (`read::reconstruct`).

use tfplugin5::typed::Tf;
use tfplugin5::Diagnostics;

use super::model::ClusterNetworkModel;

pub fn import(id: &str) -> (Vec<ClusterNetworkModel>, Diagnostics) {
    let name = id.trim();
    if name.is_empty() {
        return (
            Vec::new(),
            Diagnostics::from_error(
                "Missing cluster name",
                "Import hybridnet_cluster_network with the EKS cluster name: terraform import hybridnet_cluster_network.NAME <cluster_name>",
                None,
            ),
        );
    }
    let stub = ClusterNetworkModel {
        id: Tf::Known(name.to_string()),
        cluster_name: Tf::Known(name.to_string()),
        ..ClusterNetworkModel::default()
    };
    (vec![stub], Diagnostics::new())
}
