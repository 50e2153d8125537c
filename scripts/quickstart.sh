#!/usr/bin/env bash
# The main job end to end on the sample content, against the embedded sandbox (no WeChat account needed):
# check everything, then run the publisher at the moment each push in calendar.yaml falls due, as the
# scheduled workflow would during the month, and show the calendar with what went out.
set -euo pipefail
cd "$(dirname "$0")/.."

# 5 minutes after each article push falls due
mapfile -t moments < <(publisher calendar --format json | python3 -c '
import json, sys, datetime
for push in json.load(sys.stdin)["pushes"]:
    if push["mode"] in ("draft", "publish", "mass"):
        print((datetime.datetime.fromisoformat(push["time"]) + datetime.timedelta(minutes=5)).isoformat())')

publisher check --now "${moments[0]}"

for moment in "${moments[@]}"; do
  publisher publish --now "$moment"
done

publisher calendar --now "${moments[-1]}"
publisher build --out build >/dev/null
echo "Built previews in build/ (open build/2026/fanshu-3-launch/preview.html); run 'publisher sandbox' and open"
echo "http://127.0.0.1:8765/sandbox/ to see what the sandbox account published."
