// frontdoor-http-loadgen: drives an HTTP/1.1 endpoint, by default the FHIR API's
// POST /FHIR/R4/$process-message, over keep-alive connections, or with --protocol mllp the MLLP
// door (HL7 v2 frames, each answered by an ACK on its connection), and reports throughput, latency
// percentiles, errors and status counts, as text and as JSON (the fields frontdoor-loadgen writes,
// plus p90 and max). The HTTP and MLLP analogue of frontdoor-loadgen.
//
//   frontdoor-http-loadgen --target 127.0.0.1:8080 --concurrency 64 --duration 10
//   frontdoor-http-loadgen --target 127.0.0.1:8080 --rate 1000 --duration 10 --json out.json
//   frontdoor-http-loadgen --protocol mllp --target 127.0.0.1:2575 --concurrency 1 --duration 10
//
// Closed loop (--concurrency N): N keep-alive connections, each with one request always in
// flight. Open loop (--rate R): requests start on a fixed schedule whatever the answers, handed to
// the next idle one of --connections keep-alive connections (default 32; a request that finds none
// idle waits in a queue), and latency is measured from the scheduled start, so a stalled server
// is not hidden (no coordinated omission). Every request is the sample (a FHIR message Bundle)
// with a fresh random UUID as its Bundle.id, as frontdoor-loadgen makes each FHIR message unique,
// and another as its X-Request-Id, so nothing is a duplicate. The caller is named by
// X-Frontdoor-Client (the gateway's --insecure-plaintext identity). Throughput counts 2xx answers
// to requests started in the measured window; anything else is an error, counted by its status
// (HTTP_409) or by what failed (NET_CONNECT, NET_WRITE, NET_READ, NET_TIMEOUT, DROPPED_OVERLOAD).
// Over MLLP every message is the HL7 v2 sample (sender R9T01, its MSH-4: the plaintext identity)
// with a fresh MSH-10, one frame in flight per connection as engines send; an ACK whose MSA-1 is
// AA or CA counts, any other is an error by its code (MSA_AR).
//
// Beast does the HTTP (no hand-written parsing); one io_context on --threads threads (default 2),
// a strand per connection.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/latency.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// The sample's Bundle.id, replaced in every request (frontdoor-loadgen replaces the same string).
constexpr char kSampleBundleId[] = "416d4e4e-3f58-5660-a408-b2fa0b0e74a4";

// The HL7 v2 sample's MSH-10, replaced in every message (frontdoor-loadgen replaces the same).
constexpr char kSampleControlId[] = "TGH2502256530";

struct Options {
  std::string protocol = "http";  // http | mllp
  std::string target = "127.0.0.1:8080";
  std::string path = "/FHIR/R4/$process-message";
  std::string source_dir = FRONTDOOR_SOURCE_DIR;
  std::string sample;               // default: the FHIR sample under source_dir
  std::string identity = "P85901";  // the sample's sender
  std::string label;
  std::string json_path;
  int concurrency = 64;
  double rate = 0;      // > 0: open loop
  int connections = 0;  // open loop; 0: 32
  double duration_s = 10;
  double warmup_s = 2;
  int threads = 2;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A random (version 4) UUID, lower case.
std::string NewUuid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x4000ULL;
  const uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return text;
}

// Builds each request: the sample with a fresh Bundle.id (MSH-10 over MLLP), and over HTTP a fresh
// X-Request-Id.
class RequestFactory {
 public:
  explicit RequestFactory(const Options& o) : o_(o) {
    const bool mllp = o.protocol == "mllp";
    const std::string default_sample =
        mllp ? "/tests/data/samples/17-hl7-tameside-hospital.hl7" : "/tests/data/samples/01-fhir-oldham-wellbeing.json";
    const std::string text = ReadFile(o.sample.empty() ? o.source_dir + default_sample : o.sample);
    const std::string id = mllp ? kSampleControlId : kSampleBundleId;
    size_t from = 0;
    for (size_t at; (at = text.find(id, from)) != std::string::npos; from = at + id.size())
      parts_.push_back(text.substr(from, at - from));
    parts_.push_back(text.substr(from));
    size_ = text.size();
  }
  bool ok() const { return parts_.size() > 1; }

  // One MLLP frame: 0x0B, the message with a fresh MSH-10 (20 characters, HL7's classic limit),
  // 0x1C 0x0D.
  void FillFrame(std::string* frame) const {
    const std::string control_id = NewUuid().substr(0, 18);
    frame->clear();
    frame->reserve(size_ + 8);
    frame->push_back('\x0b');
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (i > 0) frame->append("lg").append(control_id);
      frame->append(parts_[i]);
    }
    frame->append("\x1c\x0d");
  }

  void Fill(http::request<http::string_body>* req) const {
    const std::string bundle_id = NewUuid();
    std::string& body = req->body();
    body.clear();
    body.reserve(size_ + 16);
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (i > 0) body += bundle_id;
      body += parts_[i];
    }
    req->method(http::verb::post);
    req->target(o_.path);
    req->version(11);
    req->set(http::field::host, o_.target);
    req->set(http::field::content_type, "application/fhir+json");
    req->set(http::field::accept, "application/fhir+json");
    req->set("X-Request-Id", NewUuid());
    req->set("X-Frontdoor-Client", o_.identity);
    req->keep_alive(true);
    req->prepare_payload();
  }

 private:
  const Options& o_;
  std::vector<std::string> parts_;  // the sample split at its Bundle.id
  size_t size_ = 0;
};

struct Stats {
  absl::Mutex mu;
  std::vector<uint32_t> latencies_us ABSL_GUARDED_BY(mu);  // 2xx answers
  std::map<std::string, uint64_t> outcomes ABSL_GUARDED_BY(mu);
};

class Connection;

// Owns the io_context, the connections and the schedule; connections report to it.
class Driver {
 public:
  Driver(const Options& o, const RequestFactory& factory, tcp::endpoint endpoint)
      : o_(o), factory_(factory), endpoint_(endpoint), context_(o.threads) {}

  void Run();
  Stats& stats() { return stats_; }

  // For connections (any thread).
  asio::io_context& context() { return context_; }
  const tcp::endpoint& endpoint() const { return endpoint_; }
  const RequestFactory& factory() const { return factory_; }
  bool mllp() const { return o_.protocol == "mllp"; }
  void Record(Clock::time_point scheduled, Clock::time_point now, const std::string& outcome, bool ok);
  // The connection's request is answered (or failed): give it its next one, or let it rest.
  void Done(const std::shared_ptr<Connection>& connection);

 private:
  void RunOpenLoop();

  const Options& o_;
  const RequestFactory& factory_;
  const tcp::endpoint endpoint_;
  asio::io_context context_;
  std::vector<std::shared_ptr<Connection>> connections_;
  Clock::time_point begin_, measure_from_, end_;
  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;                                // closed loop: connections still sending
  uint64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;                      // open loop: scheduled, not yet answered
  std::deque<Clock::time_point> queue_ ABSL_GUARDED_BY(mu_);           // open loop: waiting for a connection
  std::deque<std::shared_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);  // open loop, oldest first
  Stats stats_;
};

// One keep-alive connection with at most one request in flight; reconnects when the server
// closes it or a request fails.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(Driver& driver)
      : driver_(driver), stream_(asio::make_strand(driver.context())), pause_(stream_.get_executor()) {
    buffer_.reserve(64 * 1024);  // else Beast reads 512 bytes at a time (http_floor_server.cc)
  }

  // Sends one request, due at `scheduled` (its latency counts from then). Any thread.
  void Send(Clock::time_point scheduled) {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), scheduled] {
      self->scheduled_ = scheduled;
      if (!self->connected_) return self->Connect();
      self->Write();
    });
  }

 private:
  void Connect() {
    stream_.expires_after(std::chrono::seconds(10));
    stream_.async_connect(driver_.endpoint(), [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Fail("NET_CONNECT");
      self->connected_ = true;
      self->stream_.socket().set_option(tcp::no_delay(true), ec);
      self->Write();
    });
  }

  void Write() {
    if (driver_.mllp()) return WriteFrame();
    driver_.factory().Fill(&request_);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail(ec == beast::error::timeout ? "NET_TIMEOUT" : "NET_WRITE");
      self->Read();
    });
  }

  // MLLP: the frame in one write, then its ACK, the next frame on the connection.
  void WriteFrame() {
    driver_.factory().FillFrame(&frame_);
    stream_.expires_after(std::chrono::seconds(30));
    asio::async_write(stream_, asio::buffer(frame_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail(ec == beast::error::timeout ? "NET_TIMEOUT" : "NET_WRITE");
      asio::async_read_until(self->stream_, asio::dynamic_buffer(self->ack_), "\x1c\x0d",
                             [self](beast::error_code ec, size_t length) {
                               if (ec) return self->Fail(ec == beast::error::timeout ? "NET_TIMEOUT" : "NET_READ");
                               self->OnAck(length);
                             });
    });
  }

  // MSA-1 of the ACK: AA or CA (the accept acknowledgement of enhanced mode) is a success.
  void OnAck(size_t length) {
    const std::string ack = ack_.substr(0, length);
    ack_.erase(0, length);
    const size_t msa = ack.find("\rMSA|");
    const std::string code = msa == std::string::npos ? "NONE" : ack.substr(msa + 5, 2);
    driver_.Record(scheduled_, Clock::now(), "MSA_" + code, code == "AA" || code == "CA");
    driver_.Done(shared_from_this());
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(16 << 20);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail(ec == beast::error::timeout ? "NET_TIMEOUT" : "NET_READ");
      self->OnResponse();
    });
  }

  void OnResponse() {
    const http::response<http::string_body>& response = parser_->get();
    const int status = response.result_int();
    driver_.Record(scheduled_, Clock::now(), "HTTP_" + std::to_string(status), status / 100 == 2);
    if (!response.keep_alive()) Close();  // the next request reconnects
    driver_.Done(shared_from_this());
  }

  void Fail(const char* what) {
    driver_.Record(scheduled_, Clock::now(), what, false);
    Close();
    // A short pause before the next attempt, so a server that is down is not hammered in a loop.
    pause_.expires_after(std::chrono::milliseconds(10));
    pause_.async_wait([self = shared_from_this()](beast::error_code) { self->driver_.Done(self); });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    buffer_.clear();
    ack_.clear();
    connected_ = false;
  }

  Driver& driver_;
  beast::tcp_stream stream_;
  asio::steady_timer pause_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string frame_;  // MLLP: the frame being sent
  std::string ack_;    // MLLP: bytes read, up to and past the end of the ACK frame
  Clock::time_point scheduled_;
  bool connected_ = false;
};

void Driver::Run() {
  auto work = asio::make_work_guard(context_);
  std::vector<std::thread> runners;
  for (int i = 0; i < std::max(1, o_.threads); ++i) runners.emplace_back([this] { context_.run(); });

  begin_ = Clock::now();
  measure_from_ = begin_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.warmup_s));
  end_ = measure_from_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration_s));
  if (o_.rate > 0) {
    RunOpenLoop();
  } else {
    {
      absl::MutexLock lock(&mu_);
      active_ = o_.concurrency;
    }
    for (int i = 0; i < o_.concurrency; ++i) connections_.push_back(std::make_shared<Connection>(*this));
    for (const auto& connection : connections_) connection->Send(Clock::now());
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](int* n) { return *n == 0; }, &active_),
                         absl::Seconds(60));
  }
  work.reset();
  context_.stop();
  for (std::thread& t : runners) t.join();
}

void Driver::RunOpenLoop() {
  for (int i = 0; i < (o_.connections > 0 ? o_.connections : 32); ++i) {
    connections_.push_back(std::make_shared<Connection>(*this));
  }
  {
    absl::MutexLock lock(&mu_);
    idle_.assign(connections_.begin(), connections_.end());
  }
  const auto interval = std::chrono::duration<double>(1.0 / o_.rate);
  for (uint64_t i = 0;; ++i) {
    const Clock::time_point due =
        begin_ + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
    if (due >= end_) break;
    std::this_thread::sleep_until(due);
    std::shared_ptr<Connection> connection;
    {
      absl::MutexLock lock(&mu_);
      if (queue_.size() > 20000) {  // the server has stalled: count it, do not pile up memory
        absl::MutexLock s(&stats_.mu);
        if (due >= measure_from_) stats_.outcomes["DROPPED_OVERLOAD"]++;
        continue;
      }
      ++outstanding_;
      if (idle_.empty()) {
        queue_.push_back(due);
        continue;
      }
      connection = std::move(idle_.front());
      idle_.pop_front();
    }
    connection->Send(due);
  }
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(
                                +[](uint64_t* n) { return *n == 0; }, &outstanding_),
                            absl::Seconds(60))) {
    absl::MutexLock s(&stats_.mu);
    stats_.outcomes["UNANSWERED"] += outstanding_;
  }
}

void Driver::Record(Clock::time_point scheduled, Clock::time_point now, const std::string& outcome, bool ok) {
  if (scheduled < measure_from_ || scheduled >= end_) return;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - scheduled).count();
  absl::MutexLock lock(&stats_.mu);
  stats_.outcomes[outcome]++;
  if (ok) stats_.latencies_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
}

void Driver::Done(const std::shared_ptr<Connection>& connection) {
  if (o_.rate <= 0) {
    const Clock::time_point now = Clock::now();
    if (now < end_) return connection->Send(now);
    absl::MutexLock lock(&mu_);
    --active_;
    return;
  }
  Clock::time_point next;
  {
    absl::MutexLock lock(&mu_);
    --outstanding_;
    if (queue_.empty()) {
      idle_.push_back(connection);
      return;
    }
    next = queue_.front();
    queue_.pop_front();
  }
  connection->Send(next);
}

using frontdoor::bench::Percentile;

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--protocol")
      o->protocol = next();
    else if (a == "--target")
      o->target = next();
    else if (a == "--path")
      o->path = next();
    else if (a == "--concurrency")
      o->concurrency = std::atoi(next().c_str());
    else if (a == "--rate")
      o->rate = std::atof(next().c_str());
    else if (a == "--connections")
      o->connections = std::atoi(next().c_str());
    else if (a == "--duration")
      o->duration_s = std::atof(next().c_str());
    else if (a == "--warmup")
      o->warmup_s = std::atof(next().c_str());
    else if (a == "--threads")
      o->threads = std::atoi(next().c_str());
    else if (a == "--as")
      o->identity = next();
    else if (a == "--label")
      o->label = next();
    else if (a == "--json")
      o->json_path = next();
    else if (a == "--source-dir")
      o->source_dir = next();
    else if (a == "--sample")
      o->sample = next();
    else
      return false;
  }
  return o->concurrency > 0 && o->duration_s > 0 && o->target.rfind(':') != std::string::npos &&
         (o->protocol == "http" || o->protocol == "mllp");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: frontdoor-http-loadgen [--protocol http|mllp] [--target HOST:PORT] "
                 "[--path /FHIR/R4/$process-message] "
                 "[--concurrency N | --rate PER_SECOND [--connections N]] [--duration S] [--warmup S] "
                 "[--threads N] [--as ODS] [--label NAME] [--json FILE] [--source-dir DIR] [--sample FILE]\n");
    return 2;
  }
  RequestFactory factory(o);
  if (!factory.ok()) {
    std::fprintf(stderr, "frontdoor-http-loadgen: cannot read the sample (with Bundle.id %s or MSH-10 %s) under %s\n",
                 kSampleBundleId, kSampleControlId, o.source_dir.c_str());
    return 1;
  }
  const size_t colon = o.target.rfind(':');
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(o.target.substr(0, colon), ec);
  if (ec) {
    std::fprintf(stderr, "frontdoor-http-loadgen: --target wants an IP address and port, got %s\n", o.target.c_str());
    return 2;
  }
  Driver driver(o, factory,
                tcp::endpoint(address, static_cast<unsigned short>(std::atoi(o.target.c_str() + colon + 1))));
  driver.Run();

  Stats& stats = driver.stats();
  absl::MutexLock lock(&stats.mu);
  std::sort(stats.latencies_us.begin(), stats.latencies_us.end());
  uint64_t total = 0, errors = 0;
  for (const auto& [k, n] : stats.outcomes) {
    total += n;
    if (k.rfind("HTTP_2", 0) != 0 && k != "MSA_AA" && k != "MSA_CA") errors += n;
  }
  const std::vector<uint32_t>& l = stats.latencies_us;
  const double throughput = static_cast<double>(l.size()) / o.duration_s;
  const double max_ms = l.empty() ? 0.0 : l.back() / 1000.0;
  const std::string mode = o.rate > 0 ? "open-loop " + std::to_string(static_cast<int>(o.rate)) + "/s"
                                      : "closed-loop x" + std::to_string(o.concurrency);
  std::printf(
      "%-28s %-8s %-18s %10.0f calls/s  p50 %7.3f ms  p99 %7.3f ms  p99.9 %7.3f ms  max %8.3f ms  errors %llu/%llu\n",
      o.label.empty() ? o.target.c_str() : o.label.c_str(), o.protocol.c_str(), mode.c_str(), throughput,
      Percentile(l, 50), Percentile(l, 99), Percentile(l, 99.9), max_ms, static_cast<unsigned long long>(errors),
      static_cast<unsigned long long>(total));
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << "{\"label\":\"" << o.label << "\",\"target\":\"" << o.target << "\",\"path\":\"" << o.path
        << "\",\"format\":\"" << (o.protocol == "mllp" ? "hl7v2-mllp" : "fhir-http") << "\",\"mode\":\""
        << (o.rate > 0 ? "open" : "closed") << "\",\"concurrency\":" << o.concurrency << ",\"rate\":" << o.rate
        << ",\"connections\":" << (o.rate > 0 ? (o.connections > 0 ? o.connections : 32) : o.concurrency)
        << ",\"threads\":" << o.threads << ",\"duration_s\":" << o.duration_s << ",\"throughput\":" << throughput
        << ",\"p50_ms\":" << Percentile(l, 50) << ",\"p90_ms\":" << Percentile(l, 90)
        << ",\"p99_ms\":" << Percentile(l, 99) << ",\"p999_ms\":" << Percentile(l, 99.9) << ",\"max_ms\":" << max_ms
        << ",\"errors\":" << errors << ",\"calls\":" << total << ",\"outcomes\":{";
    bool first = true;
    for (const auto& [k, n] : stats.outcomes) {
      out << (first ? "" : ",") << "\"" << k << "\":" << n;
      first = false;
    }
    out << "}}\n";
  }
  return 0;
}
