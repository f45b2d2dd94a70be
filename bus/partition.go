package bus

// PartitionFor returns the partition, among n, of a record with the given
// non-empty key. It is the Apache Kafka Java client's default partitioner
// (toPositive(murmur2(key)) % n, also kafka-go's Murmur2Balancer), so the
// embedded journal and a Kafka cluster place every key in the same partition
// and per-key order survives a move between them.
//
// A record with an empty key is unkeyed: implementations spread such records
// over the partitions instead of calling PartitionFor. For n <= 1 the result
// is 0.
func PartitionFor(key []byte, n int) int {
	if n <= 1 {
		return 0
	}
	return int(uint32(Murmur2(key)&0x7fffffff) % uint32(n))
}

// Murmur2 is the 32-bit MurmurHash2 variant of the Kafka Java client
// (org.apache.kafka.common.utils.Utils.murmur2, seed 0x9747b28c), returned as
// the signed value Java computes.
func Murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	n4 := length &^ 3
	for i := 0; i < n4; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	// The tail falls through from three bytes to one, as in the Java switch.
	switch length & 3 {
	case 3:
		h ^= uint32(data[n4+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[n4+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[n4])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}
