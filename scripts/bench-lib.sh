# Shared by scripts/bench.sh and scripts/bench-compare.sh (sourced, not run).

# start_moto WORKDIR: moto on a free loopback port with signature checks on (three unauthenticated
# setup calls), an IAM user "bench" with an allow-all policy. Sets moto_port, moto_pid, akid, secret.
start_moto() {
  local work=$1
  moto_port=$(free_port)
  INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  # (a TCP probe: an HTTP request would use up one of the three unauthenticated setup calls)
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$moto_port") 2>/dev/null && break; sleep 0.1; done
  read -r akid secret < <(python3 - "$moto_port" <<'PY'
import boto3, json, sys
ep = f"http://127.0.0.1:{sys.argv[1]}"
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="bench")
k = iam.create_access_key(UserName="bench")["AccessKey"]
iam.put_user_policy(UserName="bench", PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
