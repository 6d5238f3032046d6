package engine

import (
	"strconv"
	"strings"
	"time"
)

// MaxWaitDuration is the longest wait a workflow step may have. It matches
// the default retention of a lead's timeline, so that a run never outlives
// the history that explains it.
const MaxWaitDuration = 400 * 24 * time.Hour

const isoDay = 24 * time.Hour

// ParseISODuration parses the ISO 8601 duration of a wait step: "P2W",
// "P3D", "PT12H", "P1DT2H30M", "PT45S", "PT0.5S". Designators are accepted in
// either case. Years and months are refused because their length depends on
// the calendar; weeks stand alone, as ISO 8601 says; only seconds may have a
// fraction (with a dot or a comma, to the nanosecond). The result must be
// positive and at most MaxWaitDuration. Errors are EINVALID with an empty
// field path, for the caller to prefix.
func ParseISODuration(s string) (time.Duration, error) {
	d, msg := parseISODuration(s)
	if msg != "" {
		return 0, Invalid("", "%s", msg)
	}
	return d, nil
}

// isoUnit is one designator of a duration, in the order ISO 8601 requires.
type isoUnit struct {
	letter byte
	timed  bool // after the T
	size   time.Duration
}

var isoUnits = []isoUnit{
	{'W', false, 7 * isoDay},
	{'D', false, isoDay},
	{'H', true, time.Hour},
	{'M', true, time.Minute},
	{'S', true, time.Second},
}

func parseISODuration(raw string) (time.Duration, string) {
	const example = `use an ISO 8601 duration such as "P2D", "PT12H" or "P1DT6H"`
	s := asciiUpper(raw)
	switch {
	case s == "":
		return 0, "is required; " + example
	case s[0] == '-':
		return 0, "must be positive"
	case s[0] == '+':
		s = s[1:]
	}
	if s == "" || s[0] != 'P' {
		return 0, "is not an ISO 8601 duration; " + example
	}
	s = s[1:]
	if s == "" || s == "T" {
		return 0, "has no value; " + example
	}
	var (
		total  time.Duration
		inTime bool
		next   int // index in isoUnits of the first unit still allowed
		units  int
		weeks  bool
	)
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return 0, `has more than one "T"`
			}
			inTime = true
			s = s[1:]
			if s == "" {
				return 0, `has a "T" with no hours, minutes or seconds after it`
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
			i++
		}
		if i == len(s) {
			return 0, "ends without a unit designator (W, D, H, M or S)"
		}
		num, letter := s[:i], s[i]
		s = s[i+1:]
		if num == "" {
			return 0, "has a designator " + strconv.Quote(string(letter)) + " without a number before it"
		}
		switch {
		case letter == 'Y':
			return 0, "may not use years, whose length varies; use days, e.g. \"P365D\""
		case letter == 'M' && !inTime:
			return 0, "may not use months, whose length varies; use days, e.g. \"P30D\" (minutes are written after T: \"PT30M\")"
		}
		u := -1
		for k, cand := range isoUnits {
			if cand.letter == letter && cand.timed == inTime {
				u = k
				break
			}
		}
		if u < 0 {
			if inTime {
				return 0, "has " + strconv.Quote(string(letter)) + " after T, where only H, M and S are allowed"
			}
			return 0, "has " + strconv.Quote(string(letter)) + " before T, where only W and D are allowed"
		}
		if u < next {
			return 0, "has its units out of order or repeated; write them as W or D, then T, then H, M, S"
		}
		next = u + 1
		unit := isoUnits[u]
		part, msg := scaleDurationNumber(num, unit)
		if msg != "" {
			return 0, msg
		}
		total += part
		if total > MaxWaitDuration {
			return 0, "is longer than the maximum of 400 days"
		}
		units++
		weeks = weeks || unit.letter == 'W'
	}
	if weeks && units > 1 {
		return 0, "may not combine weeks with other units; use days, e.g. \"P10D\""
	}
	if total <= 0 {
		return 0, "must be longer than zero"
	}
	return total, ""
}

// asciiUpper upper-cases ASCII letters only: strings.ToUpper maps "ſ"
// (U+017F) to "S", which would accept "PT1ſ" as a second.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// scaleDurationNumber converts the number before one designator. It refuses
// values that would overflow before the 400-day check could see them.
func scaleDurationNumber(num string, unit isoUnit) (time.Duration, string) {
	whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(num, ",", "."), ".")
	if hasFrac && unit.letter != 'S' {
		return 0, "may only have a fraction in its seconds, e.g. \"PT1.5S\""
	}
	if whole == "" || strings.ContainsAny(frac, ".") || hasFrac && frac == "" {
		return 0, "has a malformed number " + strconv.Quote(num)
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n > int64(MaxWaitDuration/unit.size) {
		return 0, "is longer than the maximum of 400 days"
	}
	d := time.Duration(n) * unit.size
	if hasFrac {
		if len(frac) > 9 {
			return 0, "has more than nine decimals in its seconds"
		}
		ns, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return 0, "has a malformed number " + strconv.Quote(num)
		}
		d += time.Duration(ns)
	}
	return d, ""
}
