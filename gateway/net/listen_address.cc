#include "gateway/net/listen_address.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace frontdoor::gateway {

namespace {

// The cause of not being able to bind `address`; "" when a plain bind succeeds now.
std::string BindError(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return "it is not HOST:PORT";
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::StrCat("the address does not resolve (", gai_strerror(rc), ")");
  }
  std::string cause;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as servers do: TIME_WAIT is no conflict
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      const int error = errno;
      cause = error == EADDRINUSE      ? "the address is already in use: is another frontdoor-gateway (or another "
                                         "program) listening there? Stop it, or choose another address"
              : error == EACCES        ? "permission denied (ports below 1024 need privileges)"
              : error == EADDRNOTAVAIL ? "this machine has no such address"
                                       : std::strerror(error);
    }
    close(fd);
    if (!cause.empty()) break;
  }
  freeaddrinfo(found);
  return cause;
}

}  // namespace

std::string ListenFailure(const std::string& what, const std::string& address) {
  const std::string cause = BindError(address);
  return absl::StrCat(
      "cannot listen on ", address, " (", what, ")",
      cause.empty() ? ": the server did not start (see the lines logged before this one)" : absl::StrCat(": ", cause));
}

}  // namespace frontdoor::gateway
