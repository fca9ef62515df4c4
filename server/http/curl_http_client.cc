#include "server/http/curl_http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "server/common/certificate_time.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/redact.h"

namespace cloudlink::http {
namespace {

// The URL as logged: without its query, which could carry a secret.
absl::string_view UrlForLog(absl::string_view url) {
  return url.substr(0, url.find('?'));
}

// curl's own account of a transfer, for debug logs: only its informational
// text (connecting, proxy CONNECT, TLS handshake and certificate checks),
// never headers or data, which carry tokens and proxy credentials.
// `secret` (the proxy password), should curl ever quote it, is masked.
int CurlDebugLine(CURL*, curl_infotype type, char* data, size_t size,
                  void* secret) {
  if (type != CURLINFO_TEXT) return 0;
  absl::string_view text(data, size);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return 0;
  std::string line(text);
  const std::string& password = *static_cast<const std::string*>(secret);
  if (!password.empty()) {
    line = absl::StrReplaceAll(line, {{password, RedactSecret(password)}});
  }
  LogDebug(absl::StrCat("HTTP: curl: ", line));
  return 0;
}

// Where curl's callbacks put the answer, and whether it outgrew the limits
// (a callback that returns less than it was given makes curl stop the
// transfer there).
struct Received {
  HttpResponse* response;
  size_t header_bytes = 0;
  bool too_large = false;
};

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  auto* received = static_cast<Received*>(user);
  std::string& body = received->response->body;
  if (size * n > kMaxResponseBodyBytes - body.size()) {
    received->too_large = true;
    return 0;
  }
  body.append(data, size * n);
  return size * n;
}

size_t ParseHeader(char* data, size_t size, size_t n, void* user) {
  auto* received = static_cast<Received*>(user);
  auto* response = received->response;
  received->header_bytes += size * n;
  if (received->header_bytes > kMaxResponseHeaderBytes) {
    received->too_large = true;
    return 0;
  }
  absl::string_view line(data, size * n);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after a proxy CONNECT or a 100 Continue) starts over.
    response->headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    std::string name =
        absl::AsciiStrToLower(std::string(line.substr(0, colon)));
    response->headers[name] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// The proxy URL without its credentials, which go to curl as options of
// their own: curl parses credentials out of a URL with its own rules, and a
// user name it cannot parse made it drop the proxy altogether. "" (direct)
// tells curl to use no proxy and to ignore the environment.
std::string ProxyUrlForCurl(const config::ProxyConfig& proxy) {
  config::ProxyConfig bare = proxy;
  bare.username.clear();
  bare.password.clear();
  return bare.ToUrl();
}

absl::Status TransportError(CURLcode code, CURL* curl,
                            const HttpRequest& request,
                            const TransportOptions& options,
                            const char* detail) {
  const bool via_proxy = options.proxy.kind != config::ProxyKind::kDirect;
  const std::string where = absl::StrCat(
      request.method, " ", request.url,
      via_proxy ? absl::StrCat(" via proxy ", options.proxy.Redacted())
                : std::string(" (no proxy)"));
  const std::string what =
      detail[0] != '\0' ? detail : curl_easy_strerror(code);
  long connect_code = 0;
  curl_easy_getinfo(curl, CURLINFO_HTTP_CONNECTCODE, &connect_code);
  long proxy_error = 0;
#if LIBCURL_VERSION_NUM >= 0x074900
  curl_easy_getinfo(curl, CURLINFO_PROXY_ERROR, &proxy_error);
#endif
  if (via_proxy) {
    // 407 is the standard answer; tinyproxy 1.11 answers a CONNECT with bad
    // BasicAuth credentials with 401. Either way only the proxy can have
    // answered the CONNECT, so both mean its credentials were rejected.
    if (connect_code == 407 || connect_code == 401 ||
#if LIBCURL_VERSION_NUM >= 0x074900
        proxy_error == CURLPX_USER_REJECTED || proxy_error == CURLPX_NO_AUTH ||
        proxy_error == CURLPX_LONG_USER || proxy_error == CURLPX_LONG_PASSWD ||
#endif
        false) {
      return Error(
          absl::StatusCode::kUnavailable, reason::kProxyAuth,
          absl::StrCat("the proxy rejected the credentials (", what, "); ",
                       where, "; check the proxy user and password"));
    }
    // Any other 4xx to our CONNECT (tinyproxy's ConnectPort: 403), or a
    // SOCKS5 "not allowed by ruleset", is the proxy's policy, not our
    // credentials.
    if ((connect_code >= 400 && connect_code < 500) ||
#if LIBCURL_VERSION_NUM >= 0x074900
        proxy_error == CURLPX_REPLY_NOT_ALLOWED ||
#endif
        false) {
      return Error(
          absl::StatusCode::kUnavailable, reason::kProxyRefused,
          absl::StrCat(
              "the proxy refused the tunnel",
              connect_code != 0 ? absl::StrCat(" with status ", connect_code)
                                : std::string(),
              " (", what, "); ", where,
              "; check the proxy's allow rules (the ports and hosts it may "
              "tunnel to)"));
    }
    // Through an HTTP proxy, no 200 to our CONNECT means the tunnel never
    // came up (refused, unreachable, or an answer that is not HTTP at all),
    // so whatever curl calls the error, the proxy is at fault.
    const bool http_tunnel_failed =
        options.proxy.kind == config::ProxyKind::kHttp && connect_code != 200;
    if (code == CURLE_COULDNT_RESOLVE_PROXY || http_tunnel_failed ||
        (connect_code != 0 && connect_code != 200) ||
#if LIBCURL_VERSION_NUM >= 0x074900
        code == CURLE_PROXY ||
#endif
        (code == CURLE_COULDNT_CONNECT && connect_code == 0 &&
         proxy_error == 0)) {
      return Error(
          absl::StatusCode::kUnavailable, reason::kProxyFailed,
          absl::StrCat("proxy negotiation failed (", what, "); ", where));
    }
  }
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
    case CURLE_SSL_CACERT:
#endif
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR: {
      long verify_result = 0;
      curl_easy_getinfo(curl, CURLINFO_SSL_VERIFYRESULT, &verify_result);
      if (IsCertificateTimeError(verify_result)) {
        return Error(
            absl::StatusCode::kUnavailable, reason::kTlsVerifyFailed,
            absl::StrCat("TLS certificate verification failed (", what, "); ",
                         where, "; ",
                         CertificateTimeAdvice(verify_result, absl::Now())));
      }
      return Error(absl::StatusCode::kUnavailable, reason::kTlsVerifyFailed,
                   absl::StrCat("TLS certificate verification failed (", what,
                                "); ", where,
                                "; check the cloud URL and --cloud-ca, or set "
                                "insecure only for a test cloud"));
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_USE_SSL_FAILED:
      return Error(absl::StatusCode::kUnavailable, reason::kTlsFailed,
                   absl::StrCat("TLS handshake failed (", what, "); ", where));
    default:
      return Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
                   absl::StrCat("connection failed (", what, "); ", where));
  }
}

}  // namespace

CurlHttpClient::CurlHttpClient() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

absl::StatusOr<HttpResponse> CurlHttpClient::Send(
    const HttpRequest& request, const TransportOptions& options) {
  if (options.proxy.kind == config::ProxyKind::kEnv) {
    return absl::InternalError("HttpClient::Send with an unresolved env proxy");
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return absl::ResourceExhaustedError("curl_easy_init failed");
  CURL* c = curl.get();
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(
      c, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options.connect_timeout)));
  curl_easy_setopt(
      c, CURLOPT_TIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options.total_timeout)));
  Received received{&response};
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ParseHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &received);
  // An announced Content-Length over the limit fails before the body.
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(kMaxResponseBodyBytes));

  // Always set the proxy explicitly: "" means direct and keeps curl from
  // reading http_proxy behind our back.
  const std::string proxy_url = ProxyUrlForCurl(options.proxy);
  curl_easy_setopt(c, CURLOPT_PROXY, proxy_url.c_str());
  // The proxy decision is made (config::ResolveProxy applies no_proxy for
  // "env"); curl must not exempt any host from it by reading no_proxy.
  curl_easy_setopt(c, CURLOPT_NOPROXY, "");
  if (!options.proxy.username.empty()) {
    curl_easy_setopt(c, CURLOPT_PROXYUSERNAME, options.proxy.username.c_str());
    curl_easy_setopt(c, CURLOPT_PROXYPASSWORD, options.proxy.password.c_str());
  }
  if (options.proxy.kind == config::ProxyKind::kHttp) {
    curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXYAUTH, CURLAUTH_BASIC);
  }

  if (options.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_file.empty()) {
      curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
    }
  }

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& [name, value] : request.headers) {
    std::string line = absl::StrCat(name, ": ", value);
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  }
  // No "Expect: 100-continue" round trip.
  headers.reset(curl_slist_append(headers.release(), "Expect:"));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }

  const bool debug = LogEnabled(LogLevel::kDebug);
  if (debug) {
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, CurlDebugLine);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &options.proxy.password);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    LogDebug(absl::StrCat("HTTP: ", request.method, " ", UrlForLog(request.url),
                          " (proxy ", options.proxy.Redacted(),
                          options.insecure ? ", insecure" : "", ")"));
  }
  CURLcode code = curl_easy_perform(c);
  if (received.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    response.body.clear();
    response.body.shrink_to_fit();
    return Error(
        absl::StatusCode::kUnavailable, reason::kResponseTooLarge,
        absl::StrCat("the answer to ", request.method, " ", request.url,
                     " is larger than ", kMaxResponseBodyBytes >> 20,
                     " MiB (body) or ", kMaxResponseHeaderBytes >> 10,
                     " KiB (headers), the most cloudlinkd accepts; "
                     "the transfer was cut off"));
  }
  if (code != CURLE_OK) {
    absl::Status failed = TransportError(code, c, request, options, error);
    if (debug) {
      LogDebug(absl::StrCat("HTTP: ", request.method, " ",
                            UrlForLog(request.url),
                            " failed: ", failed.message()));
    }
    return failed;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  if (debug) {
    LogDebug(absl::StrCat("HTTP: ", request.method, " ", UrlForLog(request.url),
                          " -> ", response.status, " (", response.body.size(),
                          " bytes)"));
  }
  return response;
}

}  // namespace cloudlink::http
