#!/usr/bin/env bash
# Makes the screenshots in this folder from the demo project (`make screenshots`), so
# they always show the app as it is. Headless: Qt's offscreen platform unless a display
# is set up (QT_QPA_PLATFORM=xcb under xvfb-run works too).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=.venv/bin
out=docs/screenshots
project=previz-demo/the_last_lighthouse.previz
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
$bin/previz demo --out previz-demo > /dev/null
$bin/previz-gui --screenshot "$out/main-window.png" --size 1600x1000 "$project"
$bin/previz-gui --screenshot "$out/main-window-laptop.png" --size 1280x800 "$project"
$bin/previz-gui --screenshot "$out/animatic-player.png" --size 1600x1000 --player "$project"
$bin/previz-gui --screenshot "$out/board-export.png" --size 1600x1000 --dialog boards "$project"
$bin/previz-gui --screenshot "$out/deck-editor.png" --size 1600x1000 --dialog deck "$project"
$bin/previz-gui --screenshot "$out/plate-dialog.png" --size 1600x1000 --dialog plate "$project"
echo "screenshots written to $out"
