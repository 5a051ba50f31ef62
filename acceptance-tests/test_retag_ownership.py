"""A change of `tags` must not put hybridnet's owner tag on what the resource found.

Were the retag step (apply/tags.rs) to re-tag every rule ID that satisfies a
requirement, EKS's own identical rule would get `hybridnet:cluster-network`; from then
on it would count as the resource's, and destroy would revoke it. (The same holds for an
attachment the resource found; moto keeps no attachment tags, so that half is covered by
a Rust unit test, not here.)
"""

from __future__ import annotations

from harness import network_args, network_hcl, state_values


def config(s, tags: dict) -> str:
    return network_hcl(network_args(s, "tgw", webhook_ports=None, tags=tags), output=False)


def test_a_tags_change_leaves_adopted_rules_untagged_and_destroy_keeps_them(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(config(s, {"team": "platform"}))
    assert tf_aws.apply().ok
    state = state_values(tf_aws)
    assert state["adopted_security_group_rule_ids"] == [s.eks_rule_id]

    tf_aws.write(config(s, {"owner": "network"}))
    assert tf_aws.apply().ok
    rule = aws.ec2.describe_security_group_rules(SecurityGroupRuleIds=[s.eks_rule_id])["SecurityGroupRules"][0]
    assert {t["Key"] for t in rule.get("Tags", [])} == set(), rule

    assert tf_aws.apply("-destroy").ok
    assert aws.ec2.describe_security_group_rules(SecurityGroupRuleIds=[s.eks_rule_id])["SecurityGroupRules"]
