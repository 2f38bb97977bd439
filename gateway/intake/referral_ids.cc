#include "gateway/intake/referral_ids.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/time/clock.h"
#include "common/uuid.h"

namespace frontdoor::gateway {

namespace {

// Random bytes from OpenSSL's CSPRNG, drawn 4 KiB at a time per thread: a RAND_bytes call costs
// about 6k instructions whatever its size, and each FHIR referral needs two ids.
void FillRandom(unsigned char* out, size_t n) {
  struct Pool {
    unsigned char bytes[4096];
    size_t used = sizeof bytes;
  };
  thread_local Pool pool;
  if (pool.used + n > sizeof pool.bytes) {
    if (RAND_bytes(pool.bytes, sizeof pool.bytes) != 1) {
      // OpenSSL's CSPRNG failing is not recoverable for id generation; a fallback is worse than abort.
      std::fprintf(stderr, "fatal: RAND_bytes failed\n");
      std::abort();
    }
    pool.used = 0;
  }
  std::memcpy(out, pool.bytes + pool.used, n);  // each byte handed out once
  pool.used += n;
}

}  // namespace

std::string NewReferralId() {
  unsigned char b[16];
  FillRandom(b, sizeof b);
  const int64_t unix_ms = absl::ToUnixMillis(absl::Now());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(static_cast<uint64_t>(unix_ms) >> (8 * (5 - i)));
  b[6] = (b[6] & 0x0f) | 0x70;  // version 7
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 9562 variant
  return FormatUuid(b);
}

}  // namespace frontdoor::gateway
