#include "gateway/mllp/mllp_client.h"

#include <array>
#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "boost/asio/write.hpp"
#include "gateway/mllp/mllp_framer.h"

namespace frontdoor::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;

MllpClient::MllpClient(std::string host, std::string port, std::shared_ptr<asio::ssl::context> tls,
                       std::string server_name)
    : stream_(std::move(host), std::move(port), std::move(tls), std::move(server_name)) {}

absl::StatusOr<std::string> MllpClient::Send(std::string_view message, absl::Duration deadline) {
  const std::string frame = MllpFrame(message);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = stream_.open();
    if (!reused) {
      if (absl::Status connected = stream_.Connect(deadline); !connected.ok()) return connected;
    }
    beast::error_code failed;
    std::optional<std::string> answer;
    std::string framing_error;
    MllpFramer framer(1 << 20);
    std::array<char, 8192> buffer{};
    stream_.Expire(deadline);
    // Write the frame, then read until one whole frame has come back. (read_answer lives here,
    // not in the lambda below: it runs after that lambda has returned.)
    std::function<void()> read_answer;
    stream_.With([&](auto& s) {
      read_answer = [&, stream = &s] {
        stream->async_read_some(asio::buffer(buffer), [&](beast::error_code ec, size_t n) {
          if (ec) {
            failed = ec;
            return;
          }
          for (MllpEvent& event : framer.Feed(std::string_view(buffer.data(), n))) {
            if (event.kind == MllpEvent::kFrame && !answer.has_value()) answer = std::move(event.message);
            if (event.kind != MllpEvent::kFrame) framing_error = event.what;
          }
          if (!answer.has_value() && framing_error.empty()) read_answer();
        });
      };
      asio::async_write(s, asio::buffer(frame), [&](beast::error_code ec, size_t) {
        if (ec) {
          failed = ec;
          return;
        }
        read_answer();
      });
    });
    stream_.Run();
    if (answer.has_value()) return *std::move(answer);
    stream_.Close();
    const std::string where = absl::StrCat(stream_.host(), ":", stream_.port());
    if (!framing_error.empty())
      return absl::UnavailableError(absl::StrCat(where, " answered with bad framing: ", framing_error));
    if (failed == beast::error::timeout) {
      return absl::DeadlineExceededError(absl::StrCat("no acknowledgment from ", where, " within the deadline"));
    }
    // A kept connection the engine had closed meanwhile: once more on a new one.
    if (!reused) return absl::UnavailableError(absl::StrCat(where, ": ", failed.message()));
  }
  return absl::UnavailableError("the connection broke twice");
}

}  // namespace frontdoor::gateway
