package qdranttest

import (
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// matches evaluates a Qdrant filter on a point: every must condition,
// at least one should condition (when there are any, or min_should of
// them), and no must_not condition.
func matches(p *point, f *qdrant.Filter) bool {
	if f == nil {
		return true
	}
	for _, c := range f.GetMust() {
		if !condition(p, c) {
			return false
		}
	}
	for _, c := range f.GetMustNot() {
		if condition(p, c) {
			return false
		}
	}
	if len(f.GetShould()) > 0 {
		n := 0
		for _, c := range f.GetShould() {
			if condition(p, c) {
				n++
			}
		}
		if n == 0 {
			return false
		}
	}
	if ms := f.GetMinShould(); ms != nil {
		n := 0
		for _, c := range ms.GetConditions() {
			if condition(p, c) {
				n++
			}
		}
		if uint64(n) < ms.GetMinCount() {
			return false
		}
	}
	return true
}

func condition(p *point, c *qdrant.Condition) bool {
	switch x := c.GetConditionOneOf().(type) {
	case *qdrant.Condition_Filter:
		return matches(p, x.Filter)
	case *qdrant.Condition_HasId:
		for _, id := range x.HasId.GetHasId() {
			if pointKey(id) == pointKey(p.id) {
				return true
			}
		}
		return false
	case *qdrant.Condition_IsEmpty:
		return len(flatten(p.payload[x.IsEmpty.GetKey()])) == 0
	case *qdrant.Condition_Field:
		return field(p, x.Field)
	}
	// Conditions Cari never sends (nested, geo, has_vector...) match
	// nothing, so a test relying on them fails loudly.
	return false
}

// flatten returns a payload value as the list of values a condition tests:
// an array's elements, or the value itself.
func flatten(v *qdrant.Value) []*qdrant.Value {
	if v == nil {
		return nil
	}
	if l := v.GetListValue(); l != nil {
		return l.GetValues()
	}
	if _, null := v.GetKind().(*qdrant.Value_NullValue); null {
		return nil
	}
	return []*qdrant.Value{v}
}

// field evaluates a field condition as Qdrant's condition checker does
// (lib/segment/src/payload_storage/condition_checker.rs at commit 8b27841e,
// and query_checker.rs check_field_condition): a field holding an array
// matches when any of its elements does (ValueChecker::_check), and a
// missing, null or empty field matches no match or range condition
// (FieldCondition::check_empty is false for them).
func field(p *point, fc *qdrant.FieldCondition) bool {
	values := flatten(p.payload[fc.GetKey()])
	switch {
	case fc.GetMatch() != nil:
		return match(values, fc.GetMatch())
	case fc.GetDatetimeRange() != nil:
		// A string that parses as a date-time, within every bound given
		// (Range<DateTimePayloadType>); Qdrant also takes forms without a
		// zone or time, Cari writes RFC 3339 only.
		r := fc.GetDatetimeRange()
		for _, v := range values {
			t, err := time.Parse(time.RFC3339Nano, v.GetStringValue())
			if err != nil {
				continue
			}
			if (r.Gte == nil || !t.Before(r.Gte.AsTime())) && (r.Lte == nil || !t.After(r.Lte.AsTime())) &&
				(r.Gt == nil || t.After(r.Gt.AsTime())) && (r.Lt == nil || t.Before(r.Lt.AsTime())) {
				return true
			}
		}
		return false
	case fc.GetRange() != nil:
		// A number (integer or float) within every bound given; any other
		// value does not match (Range<OrderedFloat>).
		r := fc.GetRange()
		for _, v := range values {
			var x float64
			switch k := v.GetKind().(type) {
			case *qdrant.Value_IntegerValue:
				x = float64(k.IntegerValue)
			case *qdrant.Value_DoubleValue:
				x = k.DoubleValue
			default:
				continue
			}
			if (r.Gte == nil || x >= r.GetGte()) && (r.Lte == nil || x <= r.GetLte()) &&
				(r.Gt == nil || x > r.GetGt()) && (r.Lt == nil || x < r.GetLt()) {
				return true
			}
		}
		return false
	}
	return false
}

func match(values []*qdrant.Value, m *qdrant.Match) bool {
	anyValue := func(ok func(*qdrant.Value) bool) bool {
		for _, v := range values {
			if ok(v) {
				return true
			}
		}
		return false
	}
	switch x := m.GetMatchValue().(type) {
	case *qdrant.Match_Keyword:
		return anyValue(func(v *qdrant.Value) bool { return v.GetStringValue() == x.Keyword })
	case *qdrant.Match_Keywords:
		// Match::Any: some value is one of the list's.
		return anyValue(func(v *qdrant.Value) bool { return contains(x.Keywords.GetStrings(), v.GetStringValue()) })
	case *qdrant.Match_ExceptKeywords:
		// Match::Except (ValueChecker for Match, same file), value by
		// value like every match: a field matches when any of its values
		// is not in the list, so ["x", "y"] passes except ["x"] (must_not
		// any ["x"] would refuse it); a value of another type than the
		// list's passes; null and a missing field do not.
		return anyValue(func(v *qdrant.Value) bool {
			str, isString := v.GetKind().(*qdrant.Value_StringValue)
			return !isString || !contains(x.ExceptKeywords.GetStrings(), str.StringValue)
		})
	case *qdrant.Match_Integer:
		return anyValue(func(v *qdrant.Value) bool { return v.GetIntegerValue() == x.Integer })
	case *qdrant.Match_Phrase:
		// A text index with the whitespace tokenizer and no lower-casing:
		// the phrase's tokens must appear consecutively.
		phrase := strings.Fields(x.Phrase)
		return anyValue(func(v *qdrant.Value) bool { return containsRun(strings.Fields(v.GetStringValue()), phrase) })
	case *qdrant.Match_Text:
		words := strings.Fields(x.Text)
		return anyValue(func(v *qdrant.Value) bool {
			have := strings.Fields(v.GetStringValue())
			for _, w := range words {
				if !contains(have, w) {
					return false
				}
			}
			return true
		})
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsRun(tokens, run []string) bool {
	if len(run) == 0 {
		return false
	}
outer:
	for i := 0; i+len(run) <= len(tokens); i++ {
		for j, r := range run {
			if tokens[i+j] != r {
				continue outer
			}
		}
		return true
	}
	return false
}
