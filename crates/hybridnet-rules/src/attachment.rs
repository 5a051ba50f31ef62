//! The subnets of a transit gateway VPC attachment: AWS takes at most one per
//! Availability Zone (a second one in a zone fails `CreateTransitGatewayVpcAttachment`
//! with `DuplicateSubnetsInSameZone`). Virtual private gateway attachments take no
//! subnets.

/// A subnet of the attachment in a zone that an earlier subnet of the list already has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedZone {
    /// The extra subnet (the one to remove).
    pub subnet: String,
    /// Its Availability Zone.
    pub zone: String,
    /// The first subnet of the list in that zone (the one to keep).
    pub first: String,
}

/// Each subnet of `subnets` (`(id, availability zone)`, in list order) whose zone an
/// earlier one has. A subnet whose zone is not known (empty) is never counted.
pub fn subnets_sharing_a_zone(subnets: &[(String, String)]) -> Vec<SharedZone> {
    let mut firsts: Vec<(&str, &str)> = Vec::new();
    let mut out = Vec::new();
    for (id, zone) in subnets {
        if zone.is_empty() {
            continue;
        }
        match firsts.iter().find(|(z, _)| z == zone) {
            Some((_, first)) if first != id => {
                out.push(SharedZone { subnet: id.clone(), zone: zone.clone(), first: (*first).to_string() })
            }
            Some(_) => {}
            None => firsts.push((zone, id)),
        }
    }
    out
}

impl SharedZone {
    /// The error's summary.
    pub fn summary(&self) -> String {
        format!("Two attachment subnets in {}", self.zone)
    }

    /// What is wrong and how to fix it; `list` names the subnet list (an attribute name).
    pub fn detail(&self, list: &str) -> String {
        format!(
            "Subnets {first} and {subnet} are both in Availability Zone {zone}. A transit gateway VPC attachment \
             takes at most one subnet per Availability Zone (AWS rejects a second one with \
             DuplicateSubnetsInSameZone); the attachment's network interface in {first} serves every subnet of \
             {zone}. Keep one subnet per zone in {list}: remove {subnet}.",
            first = self.first,
            subnet = self.subnet,
            zone = self.zone,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: &str, zone: &str) -> (String, String) {
        (id.to_string(), zone.to_string())
    }

    #[test]
    fn one_subnet_per_zone_is_fine() {
        assert_eq!(subnets_sharing_a_zone(&[s("subnet-a", "us-east-1a"), s("subnet-b", "us-east-1b")]), []);
        assert_eq!(subnets_sharing_a_zone(&[]), []);
    }

    #[test]
    fn each_extra_subnet_is_named_with_its_zone_and_the_first() {
        let got = subnets_sharing_a_zone(&[
            s("subnet-a", "us-east-1a"),
            s("subnet-b", "us-east-1b"),
            s("subnet-c", "us-east-1a"),
            s("subnet-d", "us-east-1b"),
            s("subnet-e", "us-east-1a"),
        ]);
        let want = |subnet: &str, zone: &str, first: &str| SharedZone {
            subnet: subnet.into(),
            zone: zone.into(),
            first: first.into(),
        };
        assert_eq!(
            got,
            [
                want("subnet-c", "us-east-1a", "subnet-a"),
                want("subnet-d", "us-east-1b", "subnet-b"),
                want("subnet-e", "us-east-1a", "subnet-a"),
            ]
        );
        assert_eq!(got[0].summary(), "Two attachment subnets in us-east-1a");
        let d = got[0].detail("attachment_subnet_ids");
        assert!(d.starts_with("Subnets subnet-a and subnet-c are both in Availability Zone us-east-1a."), "{d}");
        assert!(d.ends_with("Keep one subnet per zone in attachment_subnet_ids: remove subnet-c."), "{d}");
        assert!(d.contains("DuplicateSubnetsInSameZone") && d.is_ascii() && !d.contains("  "), "{d}");
    }

    #[test]
    fn unknown_zones_and_repeats_do_not_count() {
        let got = subnets_sharing_a_zone(&[
            s("subnet-a", ""),
            s("subnet-b", ""),
            s("subnet-c", "us-east-1a"),
            s("subnet-c", "us-east-1a"),
        ]);
        assert_eq!(got, []);
    }
}
