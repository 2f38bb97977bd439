// The main of every test binary: GoogleTest's, plus a symbolized stack trace on a crash, so that a
// test that dies by a signal (on a CI machine, once in a thousand runs) says where.
#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

int main(int argc, char** argv) {
  absl::InitializeSymbolizer(argv[0]);
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions());
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
