// postgres_test_server start|stop FILE: the CTest fixture that runs one PostgreSQL server for a
// whole test run (tests/support/postgres_server.h). `start` writes where it is to FILE, which the
// tests read through FRONTDOOR_TEST_POSTGRES; `stop` stops it and removes its directory.
#include <cstdio>
#include <string>

#include "tests/support/postgres_server.h"

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "start" && std::string(argv[1]) != "stop")) {
    std::fprintf(stderr, "usage: postgres_test_server start|stop FILE\n");
    return 2;
  }
  const std::string file = argv[2];
  // Either way, a server left by an earlier run that was interrupted goes first.
  frontdoor::testing::PostgresServer::StopDescribed(file);
  if (std::string(argv[1]) == "stop") return 0;
  if (!frontdoor::testing::PostgresUnavailableReason().empty()) {
    std::printf("%s; PostgreSQL tests will skip\n", frontdoor::testing::PostgresUnavailableReason().c_str());
    return 0;
  }
  auto server = frontdoor::testing::PostgresServer::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start the PostgreSQL test server: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  if (auto s = (*server)->Describe(file); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("PostgreSQL test server on port %d, socket in %s\n", (*server)->port(), (*server)->socket_dir().c_str());
  (*server)->Detach();  // keeps running for the tests; `stop` ends it
  return 0;
}
