#!/usr/bin/env bash
# Renders an HTML report (rolewatch report --format html) to a PNG with headless Chromium, to
# attach to a ticket or check a design change. The window is --width by --height pixels; the
# default 1200x2000 holds the summary, the charts and the first alerts. For the whole page pass
# a height beyond its length (--height 12000): the empty space below it is cropped when Python
# with Pillow is installed.
#
#   scripts/render-report-png.sh REPORT.html OUT.png [--width 1200] [--height 2000]
#
# Needs chromium (Debian/Ubuntu: apt-get install -y chromium), chromium-browser or google-chrome.
set -euo pipefail

usage() { echo "usage: $0 REPORT.html OUT.png [--width PIXELS] [--height PIXELS]" >&2; exit 2; }
[ $# -ge 2 ] || usage
report=$1
out=$2
shift 2
width=1200
height=2000
while [ $# -gt 0 ]; do
  case $1 in
    --width) [ $# -ge 2 ] || usage; width=$2; shift 2 ;;
    --height) [ $# -ge 2 ] || usage; height=$2; shift 2 ;;
    *) usage ;;
  esac
done
case $width$height in *[!0-9]*) usage ;; esac
[ -f "$report" ] || { echo "error: no such file: $report" >&2; exit 1; }

browser=""
for candidate in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
done
if [ -z "$browser" ]; then
  echo "error: no Chromium found; install it (Debian/Ubuntu: apt-get install -y chromium)" >&2
  exit 1
fi

report_path=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
out_dir=$(cd "$(dirname "$out")" && pwd)
out_path=$out_dir/$(basename "$out")
# A private profile: headless runs must not touch (or lock) the user's browser profile.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# The report needs no network: keep Chromium's own background traffic off too. (Scripts stay
# on: headless screenshots rely on them, and the report has none.)
rm -f "$out_path"
"$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --no-first-run --disable-extensions --disable-background-networking --force-device-scale-factor=1 \
  --window-size="$width,$height" --screenshot="$out_path" "file://$report_path" >"$profile/log" 2>&1 || true
if [ ! -s "$out_path" ]; then
  echo "error: $browser wrote no screenshot of $report; its output:" >&2
  grep -v dbus "$profile/log" >&2 || true
  exit 1
fi

# Chromium shoots the whole window; crop the empty space below the page when Python with
# Pillow is there to do it (Debian: apt-get install -y python3-pil; the PNG is fine without).
python=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import PIL' >/dev/null 2>&1; then
    python=$candidate
    break
  fi
done
if [ -n "$python" ]; then
  "$python" - "$out_path" <<'PY'
import sys
from PIL import Image, ImageChops
path = sys.argv[1]
image = Image.open(path).convert("RGB")
background = Image.new("RGB", image.size, image.getpixel((0, image.height - 1)))
box = ImageChops.difference(image, background).getbbox()
if box:
    image.crop((0, 0, image.width, min(image.height, box[3] + 24))).save(path)
PY
fi
echo "wrote $out_path"
