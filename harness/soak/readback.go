package soak

import (
	"fmt"
	"sort"

	"flashbench/results"
)

// intervalRecord is what the run counted of one load interval, kept in
// memory to check the interval's result document against.
type intervalRecord struct {
	arch, group string
	index       int
	path        string
	requests    int64
	errors      results.Errors
	interrupted bool
	writeErr    error
}

// ResultsCheck is the read-back of the interval result documents: every
// file the run wrote must exist, decode and hold what the run counted.
type ResultsCheck struct {
	IntervalFiles    int      `json:"interval_files"`
	FilesReadBack    int      `json:"files_read_back"`
	RequestsCounted  int64    `json:"requests_counted"`
	RequestsReadBack int64    `json:"requests_read_back"`
	ErrorsCounted    int64    `json:"errors_counted"`
	ErrorsReadBack   int64    `json:"errors_read_back"`
	Lost             []string `json:"lost"`
}

// readBack reads every interval document back, sums it, and lists what
// was lost (by architecture, for the verdict).
func readBack(records []*intervalRecord) (ResultsCheck, map[string][]string) {
	sort.Slice(records, func(i, j int) bool { return records[i].path < records[j].path })
	rc := ResultsCheck{IntervalFiles: len(records), Lost: []string{}}
	lost := map[string][]string{}
	for _, rec := range records {
		rc.RequestsCounted += rec.requests
		rc.ErrorsCounted += rec.errors.Total()
		res, why := check(rec)
		if res != nil {
			rc.RequestsReadBack += res.RequestsTotal
			rc.ErrorsReadBack += res.ErrorsTotal
		}
		if why == "" {
			rc.FilesReadBack++
			continue
		}
		line := fmt.Sprintf("%s interval %d (%s): %s", rec.group, rec.index, rec.path, why)
		lost[rec.arch] = append(lost[rec.arch], line)
		rc.Lost = append(rc.Lost, rec.arch+": "+line)
	}
	return rc, lost
}

// check reads rec's document and returns it (nil if it cannot be read)
// and why it does not hold what was counted, or "".
func check(rec *intervalRecord) (*results.Result, string) {
	if rec.writeErr != nil {
		return nil, "not written: " + rec.writeErr.Error()
	}
	res, err := results.Read(rec.path)
	switch {
	case err != nil:
		return nil, err.Error()
	case res.RequestsTotal != rec.requests:
		return res, fmt.Sprintf("requests_total %d, counted %d", res.RequestsTotal, rec.requests)
	case res.Errors != rec.errors:
		return res, fmt.Sprintf("errors %d, counted %d", res.ErrorsTotal, rec.errors.Total())
	case res.Interrupted != rec.interrupted:
		return res, fmt.Sprintf("interrupted %v, counted %v", res.Interrupted, rec.interrupted)
	}
	return res, ""
}
