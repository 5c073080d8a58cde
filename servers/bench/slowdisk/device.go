package main

import (
	"fmt"
	"sync"
	"time"
)

// Device is the storage model behind a slowdisk mount: every read takes
// the access time Latency plus its transfer time at BytesPerSecond, and
// the device serves at most Channels reads at once (the spindles of a disk
// array, the queue of a network volume or an SSD); the others wait their
// turn in arrival order. One outstanding read at a time therefore gets
// 1/Latency reads per second, Channels outstanding reads Channels times
// as many, as on a real device and unlike a token bucket, whose rate is
// the same however many reads are in flight.
type Device struct {
	Latency        time.Duration
	BytesPerSecond int64 // per channel; 0: transfers take no time
	Channels       int

	slots chan struct{}

	mu        sync.Mutex
	reads     int64
	bytes     int64
	inFlight  int   // reads waiting for or holding a channel
	maxFlight int   // most reads in flight at once
	maxReport int   // most reads in flight at once since the last Report
	since     int64 // monotonic ns of the last change of inFlight
	weighted  int64 // integral of inFlight over time, in read·ns
	busy      int64 // ns with at least one read in flight
	start     time.Time
}

// NewDevice returns a device with the given access time, per-channel
// bandwidth (0 for none) and number of channels (at least one).
func NewDevice(latency time.Duration, bytesPerSecond int64, channels int) *Device {
	channels = max(channels, 1)
	return &Device{
		Latency: latency, BytesPerSecond: bytesPerSecond, Channels: channels,
		slots: make(chan struct{}, channels), start: time.Now(),
	}
}

// Read holds a channel for as long as reading n bytes takes, then calls
// read, which does the actual copy. The wait for a free channel is FIFO.
func (d *Device) Read(n int, read func()) {
	d.enter(n)
	d.slots <- struct{}{}
	time.Sleep(d.serviceTime(n))
	read()
	<-d.slots
	d.leave()
}

// serviceTime is how long one read of n bytes holds a channel.
func (d *Device) serviceTime(n int) time.Duration {
	t := d.Latency
	if d.BytesPerSecond > 0 {
		t += time.Duration(int64(n) * int64(time.Second) / d.BytesPerSecond)
	}
	return t
}

func (d *Device) enter(n int) {
	d.mu.Lock()
	d.account()
	d.reads++
	d.bytes += int64(n)
	d.inFlight++
	d.maxFlight = max(d.maxFlight, d.inFlight)
	d.maxReport = max(d.maxReport, d.inFlight)
	d.mu.Unlock()
}

func (d *Device) leave() {
	d.mu.Lock()
	d.account()
	d.inFlight--
	d.mu.Unlock()
}

// account adds the time since the last change, weighted by the reads that
// were in flight during it. Call it with mu held.
func (d *Device) account() {
	now := int64(time.Since(d.start))
	d.weighted += int64(d.inFlight) * (now - d.since)
	if d.inFlight > 0 {
		d.busy += now - d.since
	}
	d.since = now
}

// Stats describes what the device did since it was made.
type Stats struct {
	Reads, Bytes int64
	// MeanInFlight is the time-weighted mean of the reads in flight
	// (queued or being served) while the device was busy, that is while
	// at least one was; MaxInFlight is the most at any instant.
	MeanInFlight float64
	MaxInFlight  int
	// Busy is how long at least one read was in flight.
	Busy time.Duration
}

// Stats returns the device's counters.
func (d *Device) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.account()
	s := Stats{Reads: d.reads, Bytes: d.bytes, MaxInFlight: d.maxFlight, Busy: time.Duration(d.busy)}
	if d.busy > 0 {
		s.MeanInFlight = float64(d.weighted) / float64(d.busy)
	}
	return s
}

// String is the one line slowdisk prints when it stops.
func (s Stats) String() string {
	return fmt.Sprintf("%d reads, %d bytes, busy %.1fs with %.2f reads in flight on average, %d at most",
		s.Reads, s.Bytes, s.Busy.Seconds(), s.MeanInFlight, s.MaxInFlight)
}

// Report is the device's model and counters as the stats file holds them:
// totals since the device was made, in integer nanoseconds so that the
// difference of two reports is exact, and the most reads in flight since
// the previous report. A reader taking one report before a measurement
// and one after gets the measurement's own figures: the reads, bytes and
// busy time by difference, the mean reads in flight as the difference of
// InFlightNS over that of BusyNS, and its peak as MaxInFlightSinceReport.
type Report struct {
	LatencyNS      int64 `json:"latency_ns"`
	BytesPerSecond int64 `json:"bytes_per_second"`
	Channels       int   `json:"channels"`
	Reads          int64 `json:"reads"`
	Bytes          int64 `json:"bytes"`
	// BusyNS is how long at least one read was in flight.
	BusyNS int64 `json:"busy_ns"`
	// InFlightNS is the integral of the reads in flight over time, in
	// read-nanoseconds.
	InFlightNS  int64 `json:"in_flight_ns"`
	MaxInFlight int   `json:"max_in_flight"`
	// MaxInFlightSinceReport is the most reads in flight at any instant
	// since the previous Report (since the start for the first).
	MaxInFlightSinceReport int `json:"max_in_flight_since_report"`
}

// Report returns the device's counters and starts a new interval for
// MaxInFlightSinceReport, at the reads in flight now.
func (d *Device) Report() Report {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.account()
	r := Report{LatencyNS: int64(d.Latency), BytesPerSecond: d.BytesPerSecond, Channels: d.Channels,
		Reads: d.reads, Bytes: d.bytes, BusyNS: d.busy, InFlightNS: d.weighted,
		MaxInFlight: d.maxFlight, MaxInFlightSinceReport: d.maxReport}
	d.maxReport = d.inFlight
	return r
}
