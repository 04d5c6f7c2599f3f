#!/usr/bin/env bash
# `terraform apply` of packaging/terraform/examples/basic against moto (a local AWS imitation):
# the module creates its 18 resources (function, role and policy, key and alias, table, HTTP API
# with integration, two routes and stage, permission, two log groups, four alarms) and the output
# names the API's host. No second plan: moto does not keep the function's logging_config, so it
# would always show that change. Offline: the provider
# comes from the local mirror. Skips (exit 0, with a message) without moto_server or the mirror.
# usage: apply-terraform-moto.sh MODULE_DIR PLUGIN_DIR
set -uo pipefail
module=$1 plugins=$2
if [ ! -d "$plugins/registry.terraform.io/hashicorp/aws" ]; then
    echo "apply-terraform-moto: skipped, no hashicorp/aws provider under $plugins (offline)"; exit 0
fi
command -v moto_server >/dev/null || { echo "apply-terraform-moto: skipped, moto_server is not installed (make test-deps)"; exit 0; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
moto_server -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; wait $moto 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$module/." "$work/module/" 2>/dev/null || { mkdir -p "$work/module" && cp -r "$module/." "$work/module/"; }
ex="$work/module/examples/basic"
rm -rf "$ex/.terraform" "$ex/.terraform.lock.hcl" "$ex"/terraform.tfstate*
endpoint="http://127.0.0.1:$port"
cat >"$ex/moto_override.tf" <<TF
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {
    apigatewayv2   = "$endpoint"
    cloudwatch     = "$endpoint"
    cloudwatchlogs = "$endpoint"
    dynamodb       = "$endpoint"
    iam            = "$endpoint"
    kms            = "$endpoint"
    lambda         = "$endpoint"
    sts            = "$endpoint"
  }
}
TF
# A stand-in zip: moto stores the function without running it.
(cd "$work" && printf '#!/bin/sh\n' >bootstrap && zip -q -X fn.zip bootstrap)
for _ in $(seq 50); do curl -sf "$endpoint/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
cd "$ex" || exit 1
tf() { terraform "$@" -no-color -input=false -var lambda_zip="$work/fn.zip" -var archive_bucket=module-archives 2>&1 | grep -v "CLI configuration\|terraformrc\|^╷\|^│ *$\|^╵"; return "${PIPESTATUS[0]}"; }
terraform init -backend=false -input=false -no-color -plugin-dir="$plugins" >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
out=$(tf apply -auto-approve) || { echo "$out" | tail -40; echo "apply-terraform-moto: apply FAILED"; exit 1; }
added=$(echo "$out" | sed -n 's/^Apply complete! Resources: \([0-9]*\) added.*/\1/p')
[ "$added" = 18 ] || { echo "$out" | tail -20; echo "apply-terraform-moto: expected 18 resources, got '$added'"; exit 1; }
host=$(terraform output -raw -no-color registry_host 2>/dev/null)
case "$host" in *.execute-api.us-east-1.amazonaws.com) ;; *) echo "apply-terraform-moto: registry_host is '$host'"; exit 1 ;; esac
echo "apply-terraform-moto: examples/basic applied on moto: $added resources, registry_host $host"
