package event

// ReferenceUnmarshal is the decoder Unmarshal replaced, for the benchmarks.
var ReferenceUnmarshal = referenceUnmarshal
