// frontdoor-loadgen: drives ReferralService/SubmitReferral over gRPC (callback API) and reports
// throughput, latency percentiles and errors, as text and as JSON.
//
//   frontdoor-loadgen --target 127.0.0.1:50051 --format fhir --concurrency 64 --duration 10
//   frontdoor-loadgen --target 127.0.0.1:50051 --format hl7v2 --rate 1000 --duration 10 --json out.json
//
// Closed loop (--concurrency N): N calls always in flight. Open loop (--rate R): calls start on a
// fixed schedule whatever the answers, and latency is measured from the scheduled start, so a
// stalled server is not hidden (no coordinated omission). Every request carries its own message id
// (Bundle.id, MSH-10 or the typed message_id), so nothing is a duplicate.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench/latency.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"

namespace {

namespace v1 = ::frontdoor::v1;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string target = "127.0.0.1:50051";
  std::string format = "fhir";  // typed | fhir | hl7v2
  std::string source_dir = FRONTDOOR_SOURCE_DIR;
  std::string identity;  // default: the sample's sender
  std::string label;
  std::string json_path;
  int concurrency = 32;
  double rate = 0;  // > 0: open loop
  double duration_s = 10;
  double warmup_s = 2;
  int channels = 2;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size())
    text.replace(pos, from.size(), to);
  return text;
}

// Builds request N of a run: the sample with a fresh message id.
class RequestFactory {
 public:
  explicit RequestFactory(const Options& o) : format_(o.format) {
    std::mt19937_64 rng(std::random_device{}());
    char run[9];
    std::snprintf(run, sizeof run, "%08x", static_cast<unsigned>(rng()));
    run_ = run;
    if (format_ == "fhir") {
      template_ = ReplaceAll(ReadFile(o.source_dir + "/tests/data/samples/01-fhir-oldham-wellbeing.json"),
                             "416d4e4e-3f58-5660-a408-b2fa0b0e74a4", "@ID@");
      identity_ = "P85901";
    } else if (format_ == "hl7v2") {
      template_ = ReplaceAll(ReadFile(o.source_dir + "/tests/data/samples/17-hl7-tameside-hospital.hl7"),
                             "TGH2502256530", "@ID@");
      identity_ = "R9T01";
    } else {
      google::protobuf::util::JsonStringToMessage(ReadFile(o.source_dir + "/examples/typed-referral.json"), &typed_);
      identity_ = "P85901";
    }
    if (!o.identity.empty()) identity_ = o.identity;
    ok_ = format_ == "typed" ? !typed_.message_id().empty() : template_.find("@ID@") != std::string::npos;
  }
  bool ok() const { return ok_; }
  const std::string& identity() const { return identity_; }

  void Fill(uint64_t n, v1::SubmitReferralRequest* req) const {
    const std::string id = "lg" + run_ + std::to_string(n);
    if (format_ == "fhir") {
      req->set_fhir_json(ReplaceAll(template_, "@ID@", id));
    } else if (format_ == "hl7v2") {
      req->set_hl7v2(ReplaceAll(template_, "@ID@", id));
    } else {
      *req->mutable_referral() = typed_;
      req->mutable_referral()->set_message_id(id);
    }
  }

 private:
  std::string format_, run_, template_, identity_;
  v1::Referral typed_;
  bool ok_ = false;
};

struct Stats {
  absl::Mutex mu;
  std::vector<uint32_t> latencies_us ABSL_GUARDED_BY(mu);
  std::map<std::string, uint64_t> outcomes ABSL_GUARDED_BY(mu);  // disposition or gRPC error code
};

struct Call {
  grpc::ClientContext ctx;
  v1::SubmitReferralRequest req;
  v1::SubmitReferralResponse resp;
  Clock::time_point start;
};

class Driver {
 public:
  Driver(const Options& o, const RequestFactory& factory) : o_(o), factory_(factory) {
    for (int i = 0; i < std::max(1, o.channels); ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per channel
      args.SetInt("frontdoor.loadgen.channel", i);
      args.SetMaxSendMessageSize(4 << 20);
      stubs_.push_back(
          v1::ReferralService::NewStub(grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args)));
    }
  }

  void Run() {
    begin_ = Clock::now();
    measure_from_ = begin_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.warmup_s));
    end_ = measure_from_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration_s));
    if (o_.rate > 0) {
      RunOpenLoop();
    } else {
      for (int i = 0; i < o_.concurrency; ++i) Issue(Clock::now());
    }
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &in_flight_));
  }

  Stats& stats() { return stats_; }
  double measured_seconds() const { return o_.duration_s; }

 private:
  void RunOpenLoop() {
    const auto interval = std::chrono::duration<double>(1.0 / o_.rate);
    for (uint64_t i = 0;; ++i) {
      const Clock::time_point due =
          begin_ + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
      if (due >= end_) break;
      std::this_thread::sleep_until(due);
      {
        absl::MutexLock lock(&mu_);
        if (in_flight_ > 20000) {  // the server has stalled: count it, do not pile up memory
          absl::MutexLock s(&stats_.mu);
          if (due >= measure_from_) stats_.outcomes["DROPPED_OVERLOAD"]++;
          continue;
        }
      }
      Issue(due);
    }
  }

  void Issue(Clock::time_point scheduled) {
    const uint64_t n = next_.fetch_add(1);
    auto* call = new Call;
    factory_.Fill(n, &call->req);
    call->ctx.AddMetadata("x-frontdoor-client", factory_.identity());
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call->start = scheduled;
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
    }
    stubs_[n % stubs_.size()]->async()->SubmitReferral(
        &call->ctx, &call->req, &call->resp, [this, call](grpc::Status s) {
          const Clock::time_point now = Clock::now();
          if (call->start >= measure_from_ && call->start < end_) {
            const std::string outcome = s.ok() ? v1::Disposition_Name(call->resp.disposition())
                                               : "GRPC_" + std::to_string(static_cast<int>(s.error_code()));
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - call->start).count();
            absl::MutexLock lock(&stats_.mu);
            stats_.outcomes[outcome]++;
            if (s.ok()) stats_.latencies_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
          }
          delete call;
          const bool again = o_.rate <= 0 && now < end_;
          if (again) Issue(Clock::now());
          absl::MutexLock lock(&mu_);
          --in_flight_;
        });
  }

  const Options& o_;
  const RequestFactory& factory_;
  std::vector<std::unique_ptr<v1::ReferralService::Stub>> stubs_;
  std::atomic<uint64_t> next_{0};
  Clock::time_point begin_, measure_from_, end_;
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_;
};

using frontdoor::bench::Percentile;

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--target")
      o->target = next();
    else if (a == "--format")
      o->format = next();
    else if (a == "--concurrency")
      o->concurrency = std::atoi(next().c_str());
    else if (a == "--rate")
      o->rate = std::atof(next().c_str());
    else if (a == "--duration")
      o->duration_s = std::atof(next().c_str());
    else if (a == "--warmup")
      o->warmup_s = std::atof(next().c_str());
    else if (a == "--channels")
      o->channels = std::atoi(next().c_str());
    else if (a == "--as")
      o->identity = next();
    else if (a == "--label")
      o->label = next();
    else if (a == "--json")
      o->json_path = next();
    else if (a == "--source-dir")
      o->source_dir = next();
    else
      return false;
  }
  return o->format == "typed" || o->format == "fhir" || o->format == "hl7v2";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: frontdoor-loadgen [--target HOST:PORT] [--format typed|fhir|hl7v2] "
                 "[--concurrency N | --rate PER_SECOND] [--duration S] [--warmup S] [--channels N] [--as ID] "
                 "[--label NAME] [--json FILE] [--source-dir DIR]\n");
    return 2;
  }
  RequestFactory factory(o);
  if (!factory.ok()) {
    std::fprintf(stderr, "frontdoor-loadgen: cannot read the %s sample under %s\n", o.format.c_str(),
                 o.source_dir.c_str());
    return 1;
  }
  Driver driver(o, factory);
  driver.Run();

  Stats& stats = driver.stats();
  absl::MutexLock lock(&stats.mu);
  std::sort(stats.latencies_us.begin(), stats.latencies_us.end());
  uint64_t total = 0, errors = 0;
  for (const auto& [k, n] : stats.outcomes) {
    total += n;
    if (k.rfind("GRPC_", 0) == 0 || k == "DROPPED_OVERLOAD" || k == "REJECTED") errors += n;
  }
  const double throughput = static_cast<double>(stats.latencies_us.size()) / o.duration_s;
  const std::string mode = o.rate > 0 ? "open-loop " + std::to_string(static_cast<int>(o.rate)) + "/s"
                                      : "closed-loop x" + std::to_string(o.concurrency);
  std::printf(
      "%-28s %-8s %-18s %10.0f calls/s  p50 %7.3f ms  p99 %7.3f ms  p99.9 %7.3f ms  max %8.3f ms  errors %llu/%llu\n",
      o.label.empty() ? o.target.c_str() : o.label.c_str(), o.format.c_str(), mode.c_str(), throughput,
      Percentile(stats.latencies_us, 50), Percentile(stats.latencies_us, 99), Percentile(stats.latencies_us, 99.9),
      stats.latencies_us.empty() ? 0.0 : stats.latencies_us.back() / 1000.0, static_cast<unsigned long long>(errors),
      static_cast<unsigned long long>(total));
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << "{\"label\":\"" << o.label << "\",\"target\":\"" << o.target << "\",\"format\":\"" << o.format
        << "\",\"mode\":\"" << (o.rate > 0 ? "open" : "closed") << "\",\"concurrency\":" << o.concurrency
        << ",\"rate\":" << o.rate << ",\"duration_s\":" << o.duration_s << ",\"throughput\":" << throughput
        << ",\"p50_ms\":" << Percentile(stats.latencies_us, 50) << ",\"p99_ms\":" << Percentile(stats.latencies_us, 99)
        << ",\"p999_ms\":" << Percentile(stats.latencies_us, 99.9) << ",\"errors\":" << errors << ",\"calls\":" << total
        << ",\"outcomes\":{";
    bool first = true;
    for (const auto& [k, n] : stats.outcomes) {
      out << (first ? "" : ",") << "\"" << k << "\":" << n;
      first = false;
    }
    out << "}}\n";
  }
  return 0;
}
