#!/usr/bin/env bash
# Prints the folder of Mustang's validator jars (.cache/mustang-<version>/), fetching them from Maven
# Central with the machine's Maven on first use. Run by the document tests; Validate.java beside this
# script is the program they run with the machine's Java.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
VERSION="$(sed -n 's:.*<mustang.version>\(.*\)</mustang.version>.*:\1:p' "$HERE/pom.xml")"
LIBS="$REPO_ROOT/.cache/mustang-$VERSION"
if [[ ! -f "$LIBS/validator-$VERSION.jar" ]]; then
    echo "mustang: fetching Mustang's validator $VERSION from Maven Central (first run only)" >&2
    # Into a temp dir first, so an interrupted download never looks like a complete cache.
    tmp="$LIBS.tmp.$$"
    rm -rf "$tmp"
    mvn -B -q -Dstyle.color=never -s "$HERE/settings.xml" -f "$HERE/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >&2
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
fi
echo "$LIBS"
