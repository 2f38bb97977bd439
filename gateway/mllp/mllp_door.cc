#include "gateway/mllp/mllp_door.h"

#include <chrono>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/hl7v2_referral_adapter.h"
#include "adapters/sender_replies.h"
#include "boost/asio/post.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/ssl.hpp"
#include "gateway/intake/sender_reply.h"
#include "gateway/mllp/mllp_framer.h"
#include "gateway/net/close_connection.h"
#include "gateway/net/tls_contexts.h"
#include "observability/request_ids.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using observability::Log;
using observability::LogLevel;

struct MllpServer::Shared {
  MllpServerOptions options;
  MllpDoorDeps deps;
};

namespace {

constexpr char kDoor[] = "mllp";

// MSA-1 of an ACK, for logs and metrics ("AA", "CR", ...); "" when there is none.
std::string AckCode(const std::string& ack) {
  const size_t msa = ack.find("\rMSA|");
  return msa == std::string::npos || msa + 7 > ack.size() ? "" : ack.substr(msa + 5, 2);
}

// An intake refusal as an HL7 answer: whether sending the same message later may help.
bool ResendMayHelp(const absl::Status& status) {
  return status.code() == absl::StatusCode::kResourceExhausted || status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kInternal;
}

std::string RefusalWords(const absl::Status& status, absl::Duration retry_after) {
  std::string words(status.message());
  if (retry_after > absl::ZeroDuration()) {
    absl::StrAppend(&words, "; nothing was recorded: send it again in ", absl::ToInt64Milliseconds(retry_after), " ms");
  }
  return words;
}

// One connection: frames in, ACKs out in the same order.
template <class Stream>
class MllpSession : public std::enable_shared_from_this<MllpSession<Stream>> {
 public:
  MllpSession(Stream stream, ConnectionSlot slot, std::shared_ptr<const MllpServer::Shared> shared, std::string peer)
      : stream_(std::move(stream)),
        slot_(std::move(slot)),
        shared_(std::move(shared)),
        peer_(std::move(peer)),
        framer_(shared_->options.max_frame_bytes) {}

  void Start() {
    if (metrics() != nullptr) metrics()->AddMllpConnections(1);
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(Chrono(options().handshake_deadline));
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->End("the TLS handshake failed");
        self->tls_identity_ = PeerCommonName(self->stream_.native_handle());
        self->Read();
      });
    } else {
      Read();
    }
  }

  ~MllpSession() {
    if (metrics() != nullptr) metrics()->AddMllpConnections(-1);
  }

 private:
  static constexpr bool kTls = std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>;
  // One answer to send, in frame order.
  struct Answer {
    bool ready = false;
    std::string frame;  // the framed ACK or NAK
  };

  static std::chrono::steady_clock::duration Chrono(absl::Duration d) { return absl::ToChronoNanoseconds(d); }
  const MllpServerOptions& options() const { return shared_->options; }
  const MllpDoorDeps& deps() const { return shared_->deps; }
  observability::GatewayMetrics* metrics() const { return shared_->deps.metrics; }

  void Read() {
    if (reading_ || ending_ || in_flight_ >= options().max_in_flight) return;
    reading_ = true;
    // Idle between frames; within a frame, the frame's own deadline from its start block.
    if (framer_.in_frame()) {
      beast::get_lowest_layer(stream_).expires_at(frame_started_ + Chrono(options().frame_deadline));
    } else {
      beast::get_lowest_layer(stream_).expires_after(Chrono(options().idle_timeout));
    }
    stream_.async_read_some(asio::buffer(buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t bytes) {
                              self->reading_ = false;
                              self->OnRead(ec, bytes);
                            });
  }

  void OnRead(beast::error_code ec, size_t bytes) {
    if (ec == beast::error::timeout) {
      return Abandon(framer_.in_frame() ? "a frame was not finished in time" : "idle connection closed", true);
    }
    if (ec == asio::error::eof) {
      // The sender is done sending: answer what it sent, then close.
      ending_ = true;
      return Flush();
    }
    if (ec) return Abandon("", false);  // reset or closed under us: nothing can be answered
    const bool was_in_frame = framer_.in_frame();
    for (MllpEvent& event : framer_.Feed(std::string_view(buffer_.data(), bytes))) {
      if (event.kind == MllpEvent::kFrame) {
        Submit(std::move(event.message));
      } else {
        BadFrame(event);
      }
    }
    // A frame that began in this read starts its deadline now; one still open keeps its start.
    if (!was_in_frame && framer_.in_frame()) frame_started_ = std::chrono::steady_clock::now();
    if (framer_.spent()) {
      ending_ = true;
      return Flush();
    }
    Read();
  }

  void BadFrame(const MllpEvent& event) {
    const char* kinds[] = {"frame", "bytes_outside_frame", "start_inside_frame", "bad_end_block", "frame_too_large"};
    if (metrics() != nullptr) metrics()->CountMllpBadFrame(kinds[event.kind]);
    Log(LogLevel::kWarning, "mllp", absl::StrCat("bad MLLP framing: ", event.what, "; the connection is closed"),
        {{"door", kDoor}, {"peer", peer_}, {"identity", tls_identity_}});
    if (event.kind != MllpEvent::kFrameTooLarge) return;
    // Its MSH may still be readable: tell the sender why, as a NAK, before closing.
    adapters::ReplyContext reply = adapters::Hl7v2ReplyContext(event.message, adapters::Hl7Limits{});
    if (reply.control_id.empty()) return;
    answers_.push_back(
        Answer{true, MllpFrame(Hl7v2Refusal(reply, false,
                                            absl::StrCat("the frame is larger than ", options().max_frame_bytes,
                                                         " bytes; a referral is at most 1 MiB"),
                                            deps().clock->Now()))});
  }

  // The caller of this message: the certificate's CN, or in plaintext mode its MSH-4.
  std::string IdentityFor(const adapters::ReplyContext& reply) const {
    if (deps().identity_source == IdentitySource::kTlsCertificate) return tls_identity_;
    return reply.sending_facility.substr(0, reply.sending_facility.find('^'));
  }

  void Submit(std::string message) {
    const size_t slot = answers_.size() + answered_;
    answers_.push_back(Answer{});
    ++in_flight_;
    const auto began = std::chrono::steady_clock::now();
    const adapters::ReplyContext reply = adapters::Hl7v2ReplyContext(message, adapters::Hl7Limits{});
    const std::string identity = IdentityFor(reply);
    const Clock* clock = deps().clock;
    auto finish = [self = this->shared_from_this(), slot, began, reply, identity](std::string ack,
                                                                                  std::string referral_id) {
      asio::post(self->stream_.get_executor(), [self, slot, began, reply, identity, ack = std::move(ack),
                                                referral_id = std::move(referral_id)]() mutable {
        self->Answered(slot, began, reply, identity, std::move(ack), referral_id);
      });
    };
    absl::StatusOr<Caller> caller =
        IsWellFormedIdentity(identity)
            ? deps().authorizer->Identify(identity)
            : absl::UnauthenticatedError(deps().identity_source == IdentitySource::kTlsCertificate
                                             ? "no client certificate naming the sending organisation"
                                             : "MSH-4 (the sending facility) must name the sending organisation");
    if (!caller.ok()) {
      return finish(Hl7v2Refusal(reply, false, std::string(caller.status().message()), deps().clock->Now()), "");
    }
    if (deps().limiter != nullptr) {
      absl::Duration retry_after;
      absl::Status admitted = deps().limiter->TryTakeToken(identity, &retry_after);
      if (!admitted.ok()) {
        return finish(Hl7v2Refusal(reply, true, RefusalWords(admitted, retry_after), deps().clock->Now()), "");
      }
    }
    SubmissionPayload payload;
    payload.format = adapters::MessageFormat::kHl7v2;
    payload.text = std::move(message);
    observability::CallIds ids = observability::ResolveCallIds(std::nullopt, std::nullopt);
    deps().intake->Submit(
        Submission{*std::move(caller), std::move(payload), std::move(ids), kDoor},
        [reply, clock](const frontdoor::v1::SubmitReferralResponse& response) {
          // MLLP carries HL7: a sender that asked for enhanced mode (MSH-15) gets the accept ACK.
          return adapters::WantsAcceptAck(reply) ? Hl7v2AcceptAck(reply, response, clock->Now()) : response.hl7v2_ack();
        },
        [finish, reply, clock](IntakeAnswer answer) {
          if (!answer.status.ok()) {
            return finish(Hl7v2Refusal(reply, ResendMayHelp(answer.status),
                                       RefusalWords(answer.status, answer.retry_after), clock->Now()),
                          "");
          }
          finish(std::move(answer.rendered), answer.referral_id);
        });
  }

  void Answered(size_t slot, std::chrono::steady_clock::time_point began, const adapters::ReplyContext& reply,
                const std::string& identity, std::string ack, const std::string& referral_id) {
    --in_flight_;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    const std::string code = AckCode(ack);
    if (metrics() != nullptr) metrics()->ObserveMllpMessage(code, seconds);
    std::vector<observability::LogField> fields = {{"door", kDoor},
                                                   {"identity", identity},
                                                   {"ack", code},
                                                   {"control_id", reply.control_id},
                                                   {"duration_ms", seconds * 1000.0},
                                                   {"peer", peer_}};
    if (!referral_id.empty()) fields.emplace_back("referral_id", referral_id);
    Log(LogLevel::kInfo, "mllp_message", "message answered", fields);
    Answer& answer = answers_[slot - answered_];
    answer.ready = true;
    answer.frame = MllpFrame(ack);
    Flush();
    Read();  // a slot in the intake is free again
  }

  // Writes the answers that are ready, in order, one write each.
  void Flush() {
    if (writing_) return;
    if (answers_.empty() || !answers_.front().ready) {
      if (ending_ && in_flight_ == 0 && answers_.empty()) Shutdown();
      return;
    }
    writing_ = true;
    auto frame = std::make_shared<std::string>(std::move(answers_.front().frame));
    answers_.pop_front();
    ++answered_;
    beast::get_lowest_layer(stream_).expires_after(Chrono(options().frame_deadline));
    asio::async_write(stream_, asio::buffer(*frame),
                      [self = this->shared_from_this(), frame](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->Abandon("", false);
                        self->Flush();
                        self->Read();
                      });
  }

  // Ends the connection now, answered or not (the peer went away, or a deadline passed).
  void Abandon(const std::string& why, bool log) {
    if (log && !why.empty()) {
      Log(LogLevel::kInfo, "mllp", why, {{"door", kDoor}, {"peer", peer_}, {"identity", tls_identity_}});
      if (metrics() != nullptr && why.find("in time") != std::string::npos) metrics()->CountMllpBadFrame("timeout");
    }
    ending_ = true;
    Shutdown();
  }

  void End(const std::string& why) {
    Log(LogLevel::kInfo, "mllp", why, {{"door", kDoor}, {"peer", peer_}});
    ending_ = true;
    Shutdown();
  }

  void Shutdown() {
    if (closed_) return;
    closed_ = true;
    CloseConnection(stream_, this->shared_from_this());
  }

  Stream stream_;
  ConnectionSlot slot_;
  std::shared_ptr<const MllpServer::Shared> shared_;
  const std::string peer_;
  MllpFramer framer_;
  std::array<char, 16 * 1024> buffer_{};
  std::string tls_identity_;
  std::chrono::steady_clock::time_point frame_started_;
  std::deque<Answer> answers_;  // answers_[0] is frame number `answered_`
  size_t answered_ = 0;
  size_t in_flight_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool ending_ = false;
  bool closed_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MllpServer>> MllpServer::Start(asio::io_context& context,
                                                              const MllpServerOptions& options, MllpDoorDeps deps) {
  auto shared = std::make_shared<Shared>(Shared{options, std::move(deps)});
  auto on_accept = [&context, shared](tcp::socket socket, ConnectionSlot slot) {
    beast::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    const std::string peer = ec ? "" : absl::StrCat(remote.address().to_string(), ":", remote.port());
    beast::tcp_stream tcp(asio::make_strand(context));
    tcp.socket().assign(socket.local_endpoint(ec).protocol(), socket.release(), ec);
    if (ec) return;
    tcp.socket().set_option(tcp::no_delay(true), ec);
    if (shared->options.tls != nullptr) {
      std::make_shared<MllpSession<beast::ssl_stream<beast::tcp_stream>>>(
          beast::ssl_stream<beast::tcp_stream>(std::move(tcp), *shared->options.tls), std::move(slot), shared, peer)
          ->Start();
    } else {
      std::make_shared<MllpSession<beast::tcp_stream>>(std::move(tcp), std::move(slot), shared, peer)->Start();
    }
  };
  absl::StatusOr<std::shared_ptr<TcpListener>> listener =
      TcpListener::Open(context, options.listen, "the MLLP port", options.max_connections, std::move(on_accept));
  if (!listener.ok()) return listener.status();
  return std::unique_ptr<MllpServer>(new MllpServer(*std::move(listener)));
}

MllpServer::~MllpServer() { Close(); }

void MllpServer::Close() { listener_->Close(); }

}  // namespace frontdoor::gateway
