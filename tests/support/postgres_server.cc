#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace frontdoor::testing {
namespace {

constexpr char kSuperuser[] = "frontdoor_test";

bool RunningAsRoot() { return geteuid() == 0; }

// Runs argv (as the postgres user when we are root), output appended to `log`; the exit code.
int Run(std::vector<std::string> argv, const std::string& log) {
  if (RunningAsRoot()) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    const int null_in = open("/dev/null", O_RDONLY);
    if (null_in >= 0) dup2(null_in, 0);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::UnavailableError("cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

absl::Status GiveToPostgresUser(const std::string& path) {
  if (!RunningAsRoot()) return absl::OkStatus();
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr) return absl::FailedPreconditionError("running as root and there is no `postgres` user");
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return absl::InternalError(absl::StrCat("cannot chown ", path, " to postgres"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string PostgresBinDir() {
  for (const char* dir : {"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"}) {
    if (access((std::string(dir) + "/initdb").c_str(), X_OK) == 0 &&
        access((std::string(dir) + "/pg_ctl").c_str(), X_OK) == 0) {
      return dir;
    }
  }
  return "";
}

std::string PostgresUnavailableReason() {
  if (PostgresBinDir().empty()) {
    return "PostgreSQL server binaries (initdb, pg_ctl) are not installed: run scripts/install-deps "
           "(Debian package postgresql)";
  }
  return "";
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(const std::string& parent) {
  const std::string bin = PostgresBinDir();
  if (bin.empty()) return absl::FailedPreconditionError(PostgresUnavailableReason());
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string templ = base + "/frontdoor-pg-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return absl::UnavailableError("cannot make a temporary directory");
  auto server = std::unique_ptr<PostgresServer>(new PostgresServer());
  server->dir_ = templ;
  server->socket_dir_ = templ;
  server->owned_ = true;
  if (absl::Status s = GiveToPostgresUser(templ); !s.ok()) return s;
  const std::string data = templ + "/data";
  const std::string log = templ + "/server.log";
  { std::ofstream touch(log); }
  if (absl::Status s = GiveToPostgresUser(log); !s.ok()) return s;

  // Local connections over the socket (in our own 0700 directory) are trusted; TCP on loopback
  // wants a password, and the superuser has none, so nothing gets in that way.
  if (Run({bin + "/initdb", "-D", data, "-U", kSuperuser, "--auth-local=trust", "--auth-host=scram-sha-256", "-E",
           "UTF8", "--no-locale"},
          log) != 0) {
    return absl::InternalError(absl::StrCat("initdb failed:\n", ReadAll(log)));
  }
  absl::StatusOr<int> port = FreeLoopbackPort();
  if (!port.ok()) return port.status();
  server->port_ = *port;
  {
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "\n# frontdoor tests\n"
         << "port = " << *port << "\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << templ << "'\n"
         << "fsync = on\nsynchronous_commit = on\n"
         << "max_connections = 300\nshared_buffers = 32MB\n"
         << "log_min_messages = warning\n";
  }
  if (Run({bin + "/pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", log}, log) != 0) {
    return absl::InternalError(absl::StrCat("pg_ctl start failed:\n", ReadAll(log)));
  }
  return server;
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Attach(const std::string& description_file) {
  std::ifstream in(description_file);
  auto server = std::unique_ptr<PostgresServer>(new PostgresServer());
  if (!(in >> server->dir_ >> server->socket_dir_ >> server->port_)) {
    return absl::FailedPreconditionError(absl::StrCat("no PostgreSQL test server described in ", description_file));
  }
  server->owned_ = false;
  return server;
}

absl::Status PostgresServer::Describe(const std::string& file) const {
  std::ofstream out(file, std::ios::trunc);
  out << dir_ << "\n" << socket_dir_ << "\n" << port_ << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", file));
  return absl::OkStatus();
}

void PostgresServer::Stop() {
  if (!owned_ || dir_.empty()) return;
  owned_ = false;
  // Immediate: no shutdown checkpoint writing out every test database, which is deleted next anyway.
  Run({PostgresBinDir() + "/pg_ctl", "stop", "-D", dir_ + "/data", "-m", "immediate", "-w"}, dir_ + "/server.log");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

PostgresServer::~PostgresServer() { Stop(); }

void PostgresServer::StopDescribed(const std::string& description_file) {
  absl::StatusOr<std::unique_ptr<PostgresServer>> server = Attach(description_file);
  if (server.ok() && !(*server)->dir_.empty() && (*server)->dir_.rfind("/frontdoor-pg-") != std::string::npos) {
    (*server)->owned_ = true;
    (*server)->Stop();
  }
  std::error_code ec;
  std::filesystem::remove(description_file, ec);
}

std::string PostgresServer::Conninfo(const std::string& database) const {
  return absl::StrCat("host=", socket_dir_, " port=", port_, " user=", kSuperuser, " dbname=", database);
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  const std::string name = absl::StrCat("t_", getpid(), "_", counter++, "_", rd() % 100000);
  PGconn* conn = PQconnectdb(Conninfo("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status s = absl::UnavailableError(absl::StrCat("cannot connect to the test server: ", PQerrorMessage(conn)));
    PQfinish(conn);
    return s;
  }
  PGresult* res = PQexec(conn, absl::StrCat("CREATE DATABASE ", name).c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string error = ok ? "" : PQresultErrorMessage(res);
  PQclear(res);
  PQfinish(conn);
  if (!ok) return absl::InternalError(absl::StrCat("CREATE DATABASE failed: ", error));
  return Conninfo(name);
}

absl::StatusOr<PostgresServer*> SharedPostgresServer() {
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;
  std::lock_guard<std::mutex> lock(mu);
  if (server) return server.get();
  absl::StatusOr<std::unique_ptr<PostgresServer>> made;
  const char* described = std::getenv("FRONTDOOR_TEST_POSTGRES");
  if (described != nullptr && *described != '\0' && access(described, R_OK) == 0) {
    made = PostgresServer::Attach(described);
  } else {
    made = PostgresServer::Start();
  }
  if (!made.ok()) return made.status();
  server = std::move(*made);  // a server started here stops when the process exits
  return server.get();
}

std::string FreshPostgresDatabase() {
  absl::StatusOr<PostgresServer*> server = SharedPostgresServer();
  if (!server.ok()) {
    ADD_FAILURE() << "no PostgreSQL test server: " << server.status();
    return "";
  }
  absl::StatusOr<std::string> conninfo = (*server)->CreateDatabase();
  if (!conninfo.ok()) {
    ADD_FAILURE() << conninfo.status();
    return "";
  }
  return *conninfo;
}

}  // namespace frontdoor::testing
