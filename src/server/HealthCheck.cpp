// Health-check answers: see HealthCheck.h.
#include "server/HealthCheck.h"

#include "server/RequestHandler.h"

namespace epserve::server {

void HealthCheck::answer(http::Method method, bool draining, Reply& reply) {
  switch (method) {
    case http::Method::Get:
    case http::Method::Head:
      break;
    case http::Method::Other:
      RequestHandler::error(http::Status::NotImplemented, true, reply,
                            "The method is not one this server implements; the health check "
                            "answers GET and HEAD.");
      return;
    default:
      RequestHandler::error(http::Status::MethodNotAllowed, false, reply,
                            "The health check answers GET and HEAD only.");
      reply.allow = true;
      reply.allowMethods = "GET, HEAD";
      return;
  }
  // Plain text a probe can match on; never cached, or a proxy could keep answering 200 for us.
  reply.status = draining ? http::Status::ServiceUnavailable : http::Status::Ok;
  if (draining) reply.reason = "The server is draining before it shuts down.";  // debug log
  reply.body = draining ? std::string_view("draining\n") : std::string_view("ok\n");
  reply.contentType = "text/plain; charset=utf-8";
  reply.cacheControl = "no-store";
  reply.contentLength = reply.body.size();
}

}  // namespace epserve::server
