// Unit tests for the built-in error pages (server/ErrorPage) and the health endpoint's
// matching and answers (server/HealthCheck).
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "server/ErrorPage.h"
#include "server/HealthCheck.h"
#include "server/RequestHandler.h"

using epserve::http::Method;
using epserve::http::Status;
using epserve::server::HealthCheck;
using epserve::server::Reply;
using epserve::server::RequestHandler;
using epserve::server::defaultReason;
using epserve::server::errorPage;

TEST_CASE("error page: the status as title and one sentence on a line of its own") {
  const std::string_view page = errorPage(Status::BadRequest);
  CHECK(page.find("<title>400 Bad Request</title>") != std::string_view::npos);
  CHECK(page.find("\n<p>" + std::string(defaultReason(Status::BadRequest)) + "</p>\n") !=
        std::string_view::npos);
  std::string scratch;
  const std::string_view own = errorPage(Status::BadRequest, "Say it <b>plainly</b> & once.", scratch);
  CHECK(own.data() == scratch.data());
  CHECK(own.find("<p>Say it &lt;b&gt;plainly&lt;/b&gt; &amp; once.</p>") != std::string_view::npos);
  CHECK(own.find(defaultReason(Status::BadRequest)) == std::string_view::npos);
  // Rendering again reuses the scratch string's storage.
  const std::size_t capacity = scratch.capacity();
  errorPage(Status::MethodNotAllowed, "Short.", scratch);
  CHECK(scratch.capacity() == capacity);
  CHECK(scratch.find("<h1>405 Method Not Allowed</h1>") != std::string::npos);
}

TEST_CASE("error page: every status epserve generates has a default sentence") {
  for (const Status s :
       {Status::MovedPermanently, Status::BadRequest, Status::NotFound, Status::MethodNotAllowed,
        Status::RequestTimeout, Status::PreconditionFailed, Status::ContentTooLarge,
        Status::UriTooLong, Status::RangeNotSatisfiable, Status::ExpectationFailed,
        Status::HeaderFieldsTooLarge, Status::InternalServerError, Status::NotImplemented,
        Status::BadGateway, Status::ServiceUnavailable, Status::GatewayTimeout,
        Status::VersionNotSupported}) {
    CAPTURE(epserve::http::code(s));
    CHECK(defaultReason(s).back() == '.');
    CHECK(errorPage(s).find(defaultReason(s)) != std::string_view::npos);
  }
  CHECK(defaultReason(Status::Ok).empty());
}

TEST_CASE("error page: RequestHandler::error carries the reason into the reply") {
  Reply reply;
  RequestHandler::error(Status::ContentTooLarge, true, reply, "Too big by far.");
  CHECK(reply.reason == "Too big by far.");
  CHECK(reply.contentLength == reply.body.size());
  CHECK(reply.body.find("<p>Too big by far.</p>") != std::string_view::npos);
  reply.reset();
  RequestHandler::error(Status::ContentTooLarge, true, reply);
  CHECK(reply.reason.empty());
  CHECK(reply.body == errorPage(Status::ContentTooLarge));
}

TEST_CASE("health check: the exact path, with or without a query") {
  const HealthCheck health("/healthz");
  CHECK(health.matches("/healthz"));
  CHECK(health.matches("/healthz?x=1"));
  CHECK(health.matches("/healthz?"));
  CHECK_FALSE(health.matches("/healthz/"));
  CHECK_FALSE(health.matches("/healthzz"));
  CHECK_FALSE(health.matches("/health"));
  CHECK_FALSE(health.matches("/Healthz"));
  CHECK_FALSE(health.matches("/"));
  const HealthCheck off("");
  CHECK_FALSE(off.matches("/"));
  CHECK_FALSE(off.matches(""));
}

TEST_CASE("health check: 200 ok, 503 draining, 405 with Allow: GET, HEAD, 501") {
  Reply reply;
  HealthCheck::answer(Method::Get, false, reply);
  CHECK(reply.status == Status::Ok);
  CHECK(reply.body == "ok\n");
  CHECK(reply.contentLength == 3);
  CHECK(reply.cacheControl == "no-store");
  CHECK(reply.contentType.starts_with("text/plain"));
  CHECK_FALSE(reply.close);

  reply.reset();
  HealthCheck::answer(Method::Head, true, reply);
  CHECK(reply.status == Status::ServiceUnavailable);
  CHECK(reply.body == "draining\n");
  CHECK(reply.cacheControl == "no-store");
  CHECK_FALSE(reply.close);

  reply.reset();
  HealthCheck::answer(Method::Post, false, reply);
  CHECK(reply.status == Status::MethodNotAllowed);
  CHECK(reply.allow);
  CHECK(reply.allowMethods == "GET, HEAD");
  CHECK_FALSE(reply.close);
  reply.reset();
  CHECK(reply.allowMethods == "GET, HEAD, OPTIONS");  // reset restores the server-wide value

  HealthCheck::answer(Method::Other, false, reply);
  CHECK(reply.status == Status::NotImplemented);
  CHECK(reply.close);
}
