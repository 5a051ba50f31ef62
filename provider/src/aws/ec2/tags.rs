//! Tags: how ours are written at create (`tag_spec`), read back (`tags_of`) and
//! changed in place (`retag`).

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};

use super::Ec2;
use crate::aws::{sdk_error, AwsError};

pub type Tags = Vec<(String, String)>;

pub(super) fn tag_spec(resource: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
        .build()
}

pub(super) fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect()
}

/// Sets tags on resources (adds or overwrites `set`, removes `remove` keys).
pub async fn retag(ec2: &dyn Ec2, resources: &[String], set: &Tags, remove: &[String]) -> Result<(), AwsError> {
    if resources.is_empty() {
        return Ok(());
    }
    if !set.is_empty() {
        ec2.create_tags(resources, set).await?;
    }
    if !remove.is_empty() {
        ec2.delete_tags(resources, remove).await?;
    }
    Ok(())
}

// ---- the SDK's side

pub(super) async fn sdk_create_tags(c: &aws_sdk_ec2::Client, resources: &[String], set: &Tags) -> Result<(), AwsError> {
    c.create_tags()
        .set_resources(Some(resources.to_vec()))
        .set_tags(Some(set.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
        .send()
        .await
        .map(drop)
        .map_err(|e| sdk_error("ec2:CreateTags", e))
}

pub(super) async fn sdk_delete_tags(
    c: &aws_sdk_ec2::Client,
    resources: &[String],
    remove: &[String],
) -> Result<(), AwsError> {
    c.delete_tags()
        .set_resources(Some(resources.to_vec()))
        .set_tags(Some(remove.iter().map(|k| Tag::builder().key(k).build()).collect()))
        .send()
        .await
        .map(drop)
        .map_err(|e| sdk_error("ec2:DeleteTags", e))
}
