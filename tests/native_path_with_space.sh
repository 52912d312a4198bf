#!/bin/sh
# native_path_with_space.sh SOURCE_DIR BUILD_DIR ARCH
# ci/native.sh's table from a clone whose path has a space in it: the
# table script and ARCH's guest images copied under "path with space/",
# the build's native-runs.txt and sigstep moved there with them; every
# row must be met (or skipped, as the host rows where this CPU does not run
# the arch), as from the build itself.
set -u
src=$1 build=$2 arch=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d="$tmp/path with space"
mkdir -p "$d/ci" "$d/build/guest"
cp "$src/ci/native_table.sh" "$d/ci/"
cp "$build/sigstep" "$d/build/"	# the table asks it whether the host runs the arch
cp -r "$build/guest/$arch" "$d/build/guest/"
# This arch's rows, with their image paths under the new place.
awk -F '\t' -v a="$arch" '$1 == a' "$build/native-runs.txt" |
	sed "s|$build/guest/|$d/build/guest/|g" >"$d/build/native-runs.txt"
rows=$(wc -l <"$d/build/native-runs.txt")
[ "$rows" -gt 0 ] || { echo "no $arch rows in $build/native-runs.txt" >&2; exit 1; }
grep -qF "$d/build/guest/$arch/" "$d/build/native-runs.txt" || { echo "the rows were not moved" >&2; exit 1; }
(cd "$d" && ci/native_table.sh "$d/build/native-runs.txt") >"$tmp/table" 2>&1
status=$?
cat "$tmp/table"
met=$(awk 'NR > 1 && $NF == "yes"' "$tmp/table" | wc -l)
skip=$(awk 'NR > 1 && $NF == "skip"' "$tmp/table" | wc -l)
[ "$status" -eq 0 ] || { echo "native_table.sh exited $status" >&2; exit 1; }
[ "$met" -gt 0 ] && [ $((met + skip)) -eq "$rows" ] ||
	{ echo "$met of $rows rows met ($skip skipped: this CPU does not run $arch)" >&2; exit 1; }
