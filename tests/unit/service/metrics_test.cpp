#include "service/metrics.hpp"

#include <gtest/gtest.h>

namespace parlor::service {
namespace {

TEST(Metrics, LabelledSeriesShareOneHelpAndTypeLine) {
  Metrics m;
  m.caught("ws_message") += 3;
  m.caught("http")++;
  m.counter("parlor_http_requests_total", "HTTP requests routed") = 5;
  auto text = m.render();
  EXPECT_NE(text.find("parlor_exceptions_caught_total{boundary=\"ws_message\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("parlor_exceptions_caught_total{boundary=\"http\"} 1\n"), std::string::npos);
  auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("# TYPE parlor_exceptions_caught_total counter\n"), 1u);
  EXPECT_EQ(count("# HELP parlor_exceptions_caught_total "), 1u);
  EXPECT_EQ(count("# TYPE parlor_http_requests_total counter\n"), 1u);
}

}  // namespace
}  // namespace parlor::service
