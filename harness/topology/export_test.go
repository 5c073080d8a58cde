package topology

// StatFields returns the fields parseStat reads from a /proc/PID/stat
// line, for the black-box tests.
func StatFields(b []byte) (ppid int, utime, stime, cutime, cstime int64, ok bool) {
	s, ok := parseStat(b)
	return s.ppid, s.utime, s.stime, s.cutime, s.cstime, ok
}
