#!/usr/bin/env bash
# `terraform validate` of every example of packaging/terraform against the AWS provider's schema,
# and `terraform test` of the module (tests/*.tftest.hcl: plan-level, the provider mocked), offline,
# from a local provider mirror (PLUGIN_DIR/registry.terraform.io/hashicorp/aws/...).
# Skips (exit 0, with a message) when there is no mirror: CI must not depend on the network.
# usage: validate-terraform.sh MODULE_DIR PLUGIN_DIR
set -uo pipefail
module=$1 plugins=$2
if [ ! -d "$plugins/registry.terraform.io/hashicorp/aws" ]; then
    echo "validate-terraform: skipped, no hashicorp/aws provider under $plugins (offline)"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$module/." "$work/"
rm -rf "$work"/.terraform "$work"/.terraform.lock.hcl "$work"/examples/*/.terraform "$work"/examples/*/.terraform.lock.hcl
status=0
for ex in "$work"/examples/*/; do
    name=$(basename "$ex")
    if ! out=$(cd "$ex" && terraform init -backend=false -input=false -no-color -plugin-dir="$plugins" 2>&1); then
        echo "validate-terraform: examples/$name: terraform init failed:"; echo "$out"; status=1; continue
    fi
    if out=$(cd "$ex" && terraform validate -no-color 2>&1); then
        echo "validate-terraform: examples/$name: $(echo "$out" | grep -o 'Success!.*')"
    else
        echo "validate-terraform: examples/$name: INVALID"; echo "$out" | grep -v "CLI configuration\|terraformrc"; status=1
    fi
done
# terraform test: mock_provider needs the provider's schema, hence the mirror; no credentials, no AWS.
if ! out=$(cd "$work" && terraform init -backend=false -input=false -no-color -plugin-dir="$plugins" 2>&1); then
    echo "validate-terraform: module: terraform init failed:"; echo "$out"; exit 1
fi
if out=$(cd "$work" && terraform test -no-color 2>&1); then
    echo "validate-terraform: terraform test: $(echo "$out" | grep -E '^(Success|Failure)!')"
else
    echo "validate-terraform: terraform test FAILED:"; echo "$out" | grep -v "CLI configuration\|terraformrc"; status=1
fi
exit $status
