// gosym-dump prints what Go's own readers -- debug/elf, debug/gosym,
// debug/dwarf, debug/buildinfo -- say about a Go binary, one fact a line,
// for the Check suite test_gobinary to compare with harness/gobinary:
//
//	version GOVERSION                 debug/buildinfo
//	sym NAME VALUE SIZE               debug/elf, names that occur once
//	func ENTRY END NAME               debug/gosym, every function
//	line PC FILE LINE                 debug/gosym: each function's entry and
//	                                  middle, every pc of the vDSO callers
//	member TYPE NAME OFFSET           debug/dwarf: every member of the
//	                                  runtime structs the traceback reads
//
// Numbers are hexadecimal without 0x.  It is built for the host and used
// only by the tests.
package main

import (
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
)

// Functions whose every pc gets a line: the vDSO path.
var everyPC = map[string]bool{
	"runtime.nanotime1": true, "runtime.walltime": true, "time.now": true,
	"runtime.nanotime": true, "runtime.sigtramp": true,
}

// Structs whose members are listed.
var structs = map[string]bool{
	"runtime.g": true, "runtime.m": true, "runtime.gobuf": true, "runtime.stack": true,
	"runtime.p": true,
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gosym-dump:", err)
	os.Exit(2)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gosym-dump GO-BINARY")
		os.Exit(2)
	}
	path := os.Args[1]
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		fail(err)
	}
	fmt.Printf("version %s\n", bi.GoVersion)

	f, err := elf.Open(path)
	if err != nil {
		fail(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		fail(err)
	}
	count := map[string]int{}
	for _, s := range syms {
		count[s.Name]++
	}
	for _, s := range syms {
		if s.Name != "" && count[s.Name] == 1 && s.Section != elf.SHN_UNDEF {
			fmt.Printf("sym %s %x %x\n", s.Name, s.Value, s.Size)
		}
	}

	pcln, err := f.Section(".gopclntab").Data()
	if err != nil {
		fail(err)
	}
	lt := gosym.NewLineTable(pcln, f.Section(".text").Addr)
	tab, err := gosym.NewTable(nil, lt)
	if err != nil {
		fail(err)
	}
	quantum := uint64(1)
	if f.Machine == elf.EM_ARM {
		quantum = 4
	}
	for _, fn := range tab.Funcs {
		fmt.Printf("func %x %x %s\n", fn.Entry, fn.End, fn.Name)
	}
	for _, fn := range tab.Funcs {
		pcs := []uint64{fn.Entry, fn.Entry + (fn.End-fn.Entry)/2/quantum*quantum}
		if everyPC[fn.Name] {
			pcs = pcs[:0]
			for pc := fn.Entry; pc < fn.End; pc += quantum {
				pcs = append(pcs, pc)
			}
		}
		for _, pc := range pcs {
			file, line, _ := tab.PCToLine(pc)
			if file != "" {
				fmt.Printf("line %x %s %x\n", pc, file, line)
			}
		}
	}

	d, err := f.DWARF()
	if err != nil {
		fail(err)
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fail(err)
		}
		if e == nil {
			break
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if e.Tag != dwarf.TagStructType || !structs[name] || !e.Children {
			continue
		}
		for {
			m, err := r.Next()
			if err != nil {
				fail(err)
			}
			if m == nil || m.Tag == 0 {
				break
			}
			if m.Tag == dwarf.TagMember {
				mname, _ := m.Val(dwarf.AttrName).(string)
				off, ok := m.Val(dwarf.AttrDataMemberLoc).(int64)
				if ok {
					fmt.Printf("member %s %s %x\n", name, mname, off)
				}
			}
			if m.Children {
				r.SkipChildren()
			}
		}
	}
}
