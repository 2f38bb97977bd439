// frontdoor-http-floor-server: the HTTP transport floor for benchmarks, the HTTP/1.1 analogue of
// frontdoor-floor-server. It reads each request whole (Beast parses it) and answers 200 with a
// small fixed body, keeping the connection open: what HTTP/1.1 over loopback costs on this
// machine with nothing else, and the do-nothing backend nginx proxy_pass is measured in front of.
//
//   frontdoor-http-floor-server --listen 127.0.0.1:0 --ready-file FILE [--threads 2]
//
// One io_context on --threads threads (default 2, as the gateway's HTTP doors run), a strand per
// connection. Stops on SIGINT or SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr char kBody[] =
    R"({"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]})";

// One connection: read a request, answer it, read the next, until the client closes.
class FloorSession : public std::enable_shared_from_this<FloorSession> {
 public:
  // Beast reads max(512, the buffer's free capacity) at a time: a buffer left to grow by itself
  // stays near 512 bytes (the parser takes the body out of it as it arrives), 20 reads for the
  // sample. With room reserved once, a request arrives in one or two.
  explicit FloorSession(tcp::socket socket) : stream_(std::move(socket)) { buffer_.reserve(64 * 1024); }

  void Read() {
    parser_.emplace();
    parser_->body_limit(16 << 20);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->Answer();
    });
  }

 private:
  void Answer() {
    const http::request<http::string_body>& request = parser_->get();
    response_.emplace(http::status::ok, 11);
    response_->set(http::field::content_type, "application/fhir+json; charset=utf-8");
    response_->body() = kBody;
    response_->keep_alive(request.keep_alive());
    response_->prepare_payload();
    http::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->response_->keep_alive()) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
};

class FloorListener : public std::enable_shared_from_this<FloorListener> {
 public:
  FloorListener(asio::io_context& context, tcp::acceptor acceptor)
      : context_(context), acceptor_(std::move(acceptor)) {}

  void Accept() {
    acceptor_.async_accept(asio::make_strand(context_),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                             if (!ec) {
                               socket.set_option(tcp::no_delay(true), ec);
                               std::make_shared<FloorSession>(std::move(socket))->Read();
                             }
                             self->Accept();
                           });
  }

 private:
  asio::io_context& context_;
  tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0", ready_file;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--listen") == 0) listen = argv[i + 1];
    if (std::strcmp(argv[i], "--ready-file") == 0) ready_file = argv[i + 1];
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::max(1, std::atoi(argv[i + 1]));
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the threads start: they inherit it

  const size_t colon = listen.rfind(':');
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(listen.substr(0, colon), ec);
  if (colon == std::string::npos || ec) {
    std::fprintf(stderr, "frontdoor-http-floor-server: --listen wants HOST:PORT, got %s\n", listen.c_str());
    return 2;
  }
  asio::io_context context(threads);
  tcp::acceptor acceptor(context);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(std::atoi(listen.c_str() + colon + 1)));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "frontdoor-http-floor-server: cannot listen on %s: %s\n", listen.c_str(),
                 ec.message().c_str());
    return 1;
  }
  const std::string bound = listen.substr(0, colon) + ":" + std::to_string(acceptor.local_endpoint().port());
  std::make_shared<FloorListener>(context, std::move(acceptor))->Accept();

  std::vector<std::thread> runners;
  for (int i = 0; i < threads; ++i) runners.emplace_back([&context] { context.run(); });
  std::fprintf(stderr, "frontdoor-http-floor-server listening on %s (%d threads)\n", bound.c_str(), threads);
  if (!ready_file.empty()) {
    std::ofstream(ready_file + ".tmp") << bound << "\n";
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  context.stop();
  for (std::thread& t : runners) t.join();
  return 0;
}
