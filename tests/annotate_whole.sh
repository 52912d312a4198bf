#!/bin/sh
# annotate_whole.sh SIGSTEP BUILD_DIR ARCH VARIANT FUNCTION
# sigstep annotate lists every instruction of the chain's functions, not
# only those executed: under FUNCTION's header, exactly the addresses
# binutils' objdump (the arch's, as the guest build found it) disassembles
# for that symbol of the guest image annotate runs.  With the vDSO present the trampoline's fallback
# path does not run: some of its instructions are "not reached" in every
# column -- and with --no-vdso those same pcs get verdicts, so the mark
# follows what ran, not the code.  Exit 77 (skipped) without OBJDUMP.
set -u
sigstep=$1 build=$2 arch=$3 variant=$4 fn=$5
image=$build/guest/$arch/sigstep-guest-$variant
objdump=$(sed -n 's/^CMAKE_OBJDUMP:FILEPATH=//p' "$build/guest/$arch/CMakeCache.txt" 2>/dev/null)
if [ -z "$objdump" ] || ! command -v "$objdump" >/dev/null; then
	echo "annotate_whole: SKIP: no $objdump (binutils for $arch)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# the pcs under FUNCTION's header of an annotate listing, with the verdict
# cells: "PC CELLS...", "not reached" as one word
section() {
	awk -v fn="$fn:" '$0 == fn { on = 1; next } on && /^$/ { on = 0 } on' "$1" |
		sed 's/not reached/not_reached/g' |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^0x[0-9a-f]+$/) { pc = $i; break }
		       cells = ""; for (k = 1; k < i - 1; k++) cells = cells " " $k
		       print pc cells }'
}
NO_COLOR=1 "$sigstep" annotate --arch "$arch" --variant "$variant" --sigprof go1.11 modern >"$tmp/vdso" 2>"$tmp/err"
NO_COLOR=1 "$sigstep" annotate --arch "$arch" --variant "$variant" --sigprof go1.11 modern --no-vdso >"$tmp/novdso" 2>>"$tmp/err"
section "$tmp/vdso" >"$tmp/vdso.pcs"
section "$tmp/novdso" >"$tmp/novdso.pcs"
# objdump's instructions of the symbol: "  400140:\tbytes\tinsn"
"$objdump" -d --no-show-raw-insn "--disassemble=$fn" "$image" |
	sed -n 's/^ *\([0-9a-f]*\):.*/0x\1/p' >"$tmp/objdump.pcs"
n=$(wc -l <"$tmp/objdump.pcs")
cut -d' ' -f1 "$tmp/vdso.pcs" >"$tmp/listed"
if [ "$n" -eq 0 ] || ! cmp -s "$tmp/listed" "$tmp/objdump.pcs"; then
	echo "annotate_whole: FAIL $fn: annotate lists $(wc -l <"$tmp/listed") pcs, objdump $n:"
	diff "$tmp/listed" "$tmp/objdump.pcs" | head -10
	cat "$tmp/err"
	fail=1
fi
# not reached (every column) with the vDSO; reached without it
grep ' not_reached not_reached$' "$tmp/vdso.pcs" | cut -d' ' -f1 >"$tmp/unreached"
u=$(wc -l <"$tmp/unreached")
r=0
while read -r pc; do
	awk -v pc="$pc" '$1 == pc && $2 != "not_reached" && $2 != "-" { f = 1 } END { exit !f }' "$tmp/novdso.pcs" &&
		r=$((r + 1))
done <"$tmp/unreached"
if [ "$u" -eq 0 ] || [ "$r" -eq 0 ]; then
	echo "annotate_whole: FAIL $fn: $u pcs not reached with the vDSO, $r of them reached without it"
	fail=1
fi
echo "annotate_whole: $arch $variant $fn: $n instructions listed, as objdump has them;" \
	"$u not reached with the vDSO, $r of them run on the --no-vdso fallback"
grep ' not_reached not_reached$' "$tmp/vdso.pcs" | head -3 | while read -r pc _; do
	grep -m1 " $pc " "$tmp/vdso" | sed 's/  */ /g; s/^/  /'
done
exit $fail
