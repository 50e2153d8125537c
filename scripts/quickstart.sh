#!/usr/bin/env bash
# The main job end to end on the sample content, against the embedded sandbox (no WeChat account needed):
# check everything, then run the publisher at the moment each push in calendar.yaml falls due, as the
# scheduled workflow would during the month, and show the calendar with what went out; then, the morning
# after the month ends, pull the month's analytics and write its report.
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

# the calendar's month: its first and last day, and 10:00 Beijing time the day after it
read -r first last after < <(python3 -c '
import datetime, sys
first = datetime.date.fromisoformat(sys.argv[1][:7] + "-01")
after = (first + datetime.timedelta(days=32)).replace(day=1)
print(first, after - datetime.timedelta(days=1), f"{after}T10:00:00+08:00")' "${moments[0]}")
publisher stats pull --since "$first" --until "$last" --now "$after"
publisher stats report --period month --date "$first" --out reports
echo "Built previews in build/ (open build/2026/fanshu-3-launch/preview.html); run 'publisher sandbox' and open"
echo "http://127.0.0.1:8765/sandbox/ to see what the sandbox account published; the month's report is in reports/."
