package soak

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"flashbench/loadgen"
)

func TestSchedule(t *testing.T) {
	archs := []archSpec{specFor("sped"), specFor("amped"), specFor("prefork")}
	a := schedule(archs, 7, 10*time.Minute, 5*time.Second)
	if b := schedule(archs, 7, 10*time.Minute, 5*time.Second); !reflect.DeepEqual(a, b) {
		t.Fatal("schedule: got two schedules for one seed, want the same")
	}
	if c := schedule(archs, 8, 10*time.Minute, 5*time.Second); reflect.DeepEqual(a, c) {
		t.Error("schedule: got the same schedule for seeds 7 and 8, want them to differ")
	}
	from, to := faultWindow(10 * time.Minute)
	perArch := map[string]map[string]int{}
	for i, s := range a {
		if s.at < from || s.at >= to || (i > 0 && s.at <= a[i-1].at) {
			t.Fatalf("fault %d at %v: want increasing times within [%v, %v)", i, s.at, from, to)
		}
		if !s.kind.applies(specFor(s.arch)) {
			t.Errorf("fault %d: %s on %s, where it does not apply", i, s.kind.name, s.arch)
		}
		if perArch[s.kind.name] == nil {
			perArch[s.kind.name] = map[string]int{}
		}
		perArch[s.kind.name][s.arch]++
	}
	for _, k := range faultKinds {
		got := perArch[k.name]
		for _, arch := range archs {
			if k.applies(arch) && got[arch.name] == 0 {
				t.Errorf("%s: got %v, want it on every architecture it applies to (rotation)", k.name, got)
			}
		}
	}
	// A run too short for one fault per period still gets every kind.
	if short := schedule(archs, 1, 20*time.Second, 5*time.Second); len(short) != len(faultKinds) {
		t.Errorf("20s schedule: got %d faults, want %d (one of each kind)", len(short), len(faultKinds))
	}
}

func TestSampleProblems(t *testing.T) {
	start := Sample{Alive: true, FDsCoreNonFile: 30, RSSAnonCoreBytes: 10 << 20,
		ByKind: map[string]int{kindMain: 1, kindWorker: 8, kindCGI: 2}}
	end := func(edit func(*Sample)) Sample {
		s := start
		s.ByKind = map[string]int{kindMain: 1, kindWorker: 8, kindCGI: 2}
		edit(&s)
		return s
	}
	tests := []struct {
		name string
		end  Sample
		want string // "" for no problem
	}{
		{"same", end(func(*Sample) {}), ""},
		{"within slack", end(func(s *Sample) { s.FDsCoreNonFile += fdSlack }), ""},
		{"leak", end(func(s *Sample) { s.FDsCoreNonFile += fdSlack + 1 }), "descriptors (cached files aside) grew from 30 to 39"},
		{"more CGI", end(func(s *Sample) { s.ByKind[kindCGI] += 3; s.FDsCoreNonFile += fdSlack + 3*fdsPerOnDemand }), ""},
		{"duplicate", end(func(s *Sample) { s.DuplicateFileFDs = 2 }), "2 descriptors of docroot files"},
		{"deleted", end(func(s *Sample) { s.DeletedFileFDs = 10 }), "10 descriptors of deleted files, over the 9"},
		{"zombie", end(func(s *Sample) { s.Zombies = 1 }), "1 zombie"},
		{"orphan", end(func(s *Sample) { s.Orphans = 2 }), "2 orphaned"},
		{"pool short", end(func(s *Sample) { s.ByKind[kindWorker] = 7 }), "7 prefork workers, want 8"},
		{"too many CGI", end(func(s *Sample) { s.ByKind[kindCGI] = 25; s.FDsCoreNonFile += 100 }), "25 CGI processes, want at most 24"},
		{"stranger", end(func(s *Sample) { s.ByKind[kindOther] = 1 }), "1 processes of no known kind"},
		{"memory", end(func(s *Sample) { s.RSSAnonCoreBytes = 75 << 20 }), "anonymous memory grew from 10.0 MiB to 75.0 MiB"},
		{"memory within", end(func(s *Sample) { s.RSSAnonCoreBytes = 74 << 20 }), ""},
		{"dead", Sample{}, "server not running"},
	}
	r := &run{}
	a := &archRun{spec: specFor("prefork")}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.sampleProblems(a, start, tt.end)
			if tt.want == "" && len(got) > 0 || tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAttribute(t *testing.T) {
	t0 := time.Now()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	kill := &Fault{Kind: FaultKillCGI, Arch: "sped", start: at(10), end: at(10), explains: cgiClasses}
	other := &Fault{Kind: FaultKillCGI, Arch: "amped", start: at(30), end: at(30), explains: cgiClasses}
	r := &run{faults: []*Fault{kill, other}}
	a := &archRun{spec: specFor("sped")}
	second := func(s int, class loadgen.ErrorClass, n int64) errSecond {
		var e loadgen.Errors
		e[class] = n
		return errSecond{from: at(s), to: at(s + 1), errs: e}
	}
	a.errSeconds = []errSecond{
		second(11, loadgen.BadStatus, 3),        // the 502s of the killed CGI process
		second(10+7, loadgen.BadStatus, 1),      // within the grace
		second(11, loadgen.ChecksumMismatch, 1), // never explained
		second(11, loadgen.Timeout, 2),          // not a class the kill explains
		second(30, loadgen.BadStatus, 4),        // a fault on another architecture
		second(5, loadgen.BadStatus, 1),         // before the fault
	}
	explained, unexplained := r.attribute(a)
	if explained.BadStatus != 4 || explained.Total() != 4 {
		t.Errorf("explained: got %+v, want bad_status 4", explained)
	}
	if unexplained.BadStatus != 5 || unexplained.ChecksumMismatch != 1 || unexplained.Timeout != 2 || unexplained.Total() != 8 {
		t.Errorf("unexplained: got %+v, want bad_status 5, checksum_mismatch 1, timeout 2", unexplained)
	}
}
