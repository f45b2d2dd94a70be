package bus_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
)

// javaVectors are the hashes of Kafka's UtilsTest.testMurmur2 (Java client),
// plus the empty key and a binary key. The partitions for 3 and 12 partitions
// were worked out by hand from toPositive(hash) = hash & 0x7fffffff.
var javaVectors = []struct {
	key    []byte
	hash   int32
	pos    uint32 // toPositive(hash)
	mod3   int
	mod12  int
	others map[int]int // further partition counts
}{
	{key: []byte("21"), hash: -973932308, pos: 1173551340, mod3: 0, mod12: 0},
	{key: []byte("foobar"), hash: -790332482, pos: 1357151166, mod3: 0, mod12: 6, others: map[int]int{10: 6, 50: 16}},
	{key: []byte("a-little-bit-long-string"), hash: -985981536, pos: 1161502112, mod3: 2, mod12: 8},
	{key: []byte("a-little-bit-longer-string"), hash: -1486304829, pos: 661178819, mod3: 2, mod12: 11},
	{key: []byte("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), hash: -58897971, pos: 2088585677, mod3: 2, mod12: 5},
	{key: []byte("abc"), hash: 479470107, pos: 479470107, mod3: 0, mod12: 3},
	{key: []byte{12, 42, 56, 24, 109, 111}, hash: 274204207, pos: 274204207, mod3: 1, mod12: 7},
	{key: []byte{}, hash: 275646681, pos: 275646681, mod3: 0, mod12: 9},
}

func TestMurmur2MatchesJavaClient(t *testing.T) {
	for _, v := range javaVectors {
		require.Equal(t, v.hash, bus.Murmur2(v.key), "murmur2(%q)", v.key)
		require.Equal(t, v.pos, uint32(v.hash)&0x7fffffff, "table is consistent for %q", v.key)
	}
}

func TestPartitionForMatchesJavaClient(t *testing.T) {
	for _, v := range javaVectors {
		if len(v.key) == 0 {
			continue // unkeyed: never hashed by the bus
		}
		require.Equal(t, v.mod3, bus.PartitionFor(v.key, 3), "%q over 3", v.key)
		require.Equal(t, v.mod12, bus.PartitionFor(v.key, 12), "%q over 12", v.key)
		require.Equal(t, int(v.pos%12), bus.PartitionFor(v.key, 12), "%q over 12", v.key)
		for n, want := range v.others {
			require.Equal(t, want, bus.PartitionFor(v.key, n), "%q over %d", v.key, n)
		}
		require.Equal(t, 0, bus.PartitionFor(v.key, 1))
		require.Equal(t, 0, bus.PartitionFor(v.key, 0))
	}
}

// javaMurmur2 is a second, independent transcription of the Java source that
// keeps Java's signed arithmetic and unsigned shifts (>>>), used as an oracle.
func javaMurmur2(data []byte) int32 {
	length := int32(len(data))
	const seed = int32(-1756908916) // 0x9747b28c as a Java int
	const m = int32(0x5bd1e995)
	const r = 24
	ushr := func(x int32, s uint) int32 { return int32(uint32(x) >> s) }
	h := seed ^ length
	length4 := length / 4
	for i := int32(0); i < length4; i++ {
		i4 := i * 4
		k := int32(data[i4+0]&0xff) + int32(data[i4+1]&0xff)<<8 + int32(data[i4+2]&0xff)<<16 + int32(data[i4+3]&0xff)<<24
		k *= m
		k ^= ushr(k, r)
		k *= m
		h *= m
		h ^= k
	}
	switch length % 4 {
	case 3:
		h ^= int32(data[(length&^3)+2]&0xff) << 16
		fallthrough
	case 2:
		h ^= int32(data[(length&^3)+1]&0xff) << 8
		fallthrough
	case 1:
		h ^= int32(data[length&^3] & 0xff)
		h *= m
	}
	h ^= ushr(h, 13)
	h *= m
	h ^= ushr(h, 15)
	return h
}

func TestMurmur2OracleAgreesOnVectors(t *testing.T) {
	for _, v := range javaVectors {
		require.Equal(t, v.hash, javaMurmur2(v.key), "oracle on %q", v.key)
	}
}

func FuzzMurmur2(f *testing.F) {
	for _, v := range javaVectors {
		f.Add(v.key)
	}
	f.Add([]byte{0xff, 0x80, 0x00, 0x7f, 0xfe})
	f.Fuzz(func(t *testing.T, key []byte) {
		require.Equal(t, javaMurmur2(key), bus.Murmur2(key))
		p := bus.PartitionFor(key, 7)
		require.True(t, p >= 0 && p < 7)
	})
}
