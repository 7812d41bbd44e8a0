// Send-side bandwidth estimation: hand-made transport-cc feedback, then scripted links (a
// bottleneck queue, a lossy path) whose feedback comes from our own TwccRecorder and parser.
#include "sfu/send_side_bwe.hpp"

#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <cstdio>
#include <random>
#include <vector>

#include "rtc/rtcp/rtcp_packet.hpp"
#include "sfu/twcc_recorder.hpp"

namespace parlor::sfu {
namespace {

using rtc::rtcp::TwccStatus;

std::vector<TwccStatus> parse(std::span<const uint8_t> packet) {
  rtc::rtcp::CompoundIterator it(packet);
  auto h = it.next();
  EXPECT_TRUE(h);
  std::array<TwccStatus, 1024> st{};
  auto f = rtc::rtcp::read_twcc(*h, st);
  EXPECT_TRUE(f);
  if (!f) return {};
  return {st.begin(), st.begin() + f->written};
}

// ---- hand-made vectors -----------------------------------------------------------------------

TEST(SendSideBwe, HandMadeFeedbackCountsLossAndUnknownPackets) {
  SendSideBwe bwe;
  for (int i = 0; i < 10; ++i) bwe.on_packet_sent(1000, i * 1000);
  EXPECT_EQ(bwe.next_sequence(), 10);
  // Sequence numbers 0..11: 3 and 7 lost; 10 and 11 were never sent.
  rtc::rtcp::TwccFeedbackBuilder b(0, 64000, 0);
  for (int i = 0; i < 12; ++i) {
    if (i == 3 || i == 7) ASSERT_TRUE(b.add_missing());
    else ASSERT_TRUE(b.add_received(64000 + 20000 + i * 1000));
  }
  std::array<uint8_t, rtc::rtcp::TwccFeedbackBuilder::kMaxSize> out{};
  size_t n = b.build(out, 1, 2);
  ASSERT_GT(n, 0u);
  auto st = parse({out.data(), n});
  ASSERT_EQ(st.size(), 12u);
  bwe.on_feedback(st, 30000);
  EXPECT_EQ(bwe.feedbacks(), 1u);
  EXPECT_EQ(bwe.unknown_reports(), 2u);
  // Ten reported packets are below the loss window; a repeat of the same feedback changes nothing.
  bwe.on_feedback(st, 31000);
  EXPECT_EQ(bwe.unknown_reports(), 4u);
  EXPECT_NEAR(bwe.estimate_bps(), 1'000'000, 1000);  // grown for the 1 ms between the two
  EXPECT_FALSE(bwe.congested());
}

TEST(SendSideBwe, SequenceNumbersWrapAndOldOnesAreForgotten) {
  SendSideBwe bwe;
  for (int i = 0; i < 65536 + 5; ++i) bwe.on_packet_sent(100, i);
  EXPECT_EQ(bwe.next_sequence(), 5);
  // 65534, 65535, 0..4: the last seven sent, across the wrap.
  std::vector<TwccStatus> st;
  for (int i = 0; i < 7; ++i) st.push_back({static_cast<uint16_t>(65534 + i), true, 1000 + i});
  bwe.on_feedback(st, 70000);
  EXPECT_EQ(bwe.unknown_reports(), 0u);
  // Long gone from the history (kHistory packets back): unknown, not a crash or a false match.
  std::vector<TwccStatus> old{{static_cast<uint16_t>(65536 + 5 - SendSideBwe::kHistory - 10), true, 5000}};
  bwe.on_feedback(old, 71000);
  EXPECT_EQ(bwe.unknown_reports(), 1u);
  // Never sent at all (ahead of the next number).
  std::vector<TwccStatus> ahead{{100, true, 5000}};
  bwe.on_feedback(ahead, 72000);
  EXPECT_EQ(bwe.unknown_reports(), 2u);
}

TEST(SendSideBwe, FeedbackBeforeAnythingWasSentIsIgnored) {
  SendSideBwe bwe;
  std::vector<TwccStatus> st{{0, true, 0}, {1, false, 0}};
  bwe.on_feedback(st, 1000);
  EXPECT_EQ(bwe.unknown_reports(), 2u);
  EXPECT_EQ(bwe.estimate_bps(), 1'000'000);
}

TEST(SendSideBwe, ConfigClampsTheInitialValue) {
  BweConfig c;
  c.min_bps = 200'000;
  c.max_bps = 400'000;
  c.initial_bps = 1'000'000;
  SendSideBwe bwe(c);
  EXPECT_EQ(bwe.estimate_bps(), 400'000);
}

TEST(SendSideBwe, ArbitraryFeedbackKeepsTheEstimateInBounds) {
  // Whatever a subscriber reports (any sequence numbers, arrival times anywhere in what a
  // transport-cc packet can express, repeats, reordering), the estimate stays within [min, max]
  // and nothing overflows (this runs under UBSan in the test build).
  BweConfig c;
  c.min_bps = 50'000;
  c.max_bps = 5'000'000;
  SendSideBwe bwe(c);
  std::mt19937 rng(11);
  constexpr int64_t kMaxArrivalUs = (int64_t{1} << 23) * rtc::rtcp::kTwccReferenceUnitUs;
  std::uniform_int_distribution<int64_t> arrival(-kMaxArrivalUs, kMaxArrivalUs);
  std::vector<TwccStatus> st;
  int64_t now = 0;
  for (int round = 0; round < 2000; ++round) {
    now += std::uniform_int_distribution<int64_t>(0, 200'000)(rng);
    for (int i = 0, n = static_cast<int>(rng() % 40); i < n; ++i) bwe.on_packet_sent(rng() % 1500, now - (rng() % 5000));
    st.clear();
    uint16_t base = static_cast<uint16_t>(bwe.next_sequence() - rng() % 300);
    for (int i = 0, n = static_cast<int>(rng() % 300); i < n; ++i) {
      bool near = rng() % 4 != 0;
      int64_t t = near ? now + static_cast<int64_t>(rng() % 100'000) : arrival(rng);
      st.push_back({static_cast<uint16_t>(base + (rng() % 8 == 0 ? rng() : i)), rng() % 5 != 0, t});
    }
    bwe.on_feedback(st, now);
    ASSERT_GE(bwe.estimate_bps(), c.min_bps);
    ASSERT_LE(bwe.estimate_bps(), c.max_bps);
    ASSERT_GE(bwe.acked_bps(), 0);
  }
  EXPECT_EQ(bwe.feedbacks(), 2000u);
}

// ---- scripted links --------------------------------------------------------------------------

// A sender paced at 30 frames/s (each frame's packets 1 ms apart) through a bottleneck of
// `capacity_bps` with `propagation_us` of delay and a drop-tail queue of `queue_us`, plus random
// loss. The receiver's feedback (TwccRecorder → read_twcc) reaches the sender 50 ms apart.
struct Link {
  int64_t capacity_bps = 10'000'000;
  int64_t propagation_us = 20'000;
  int64_t queue_us = 2'000'000;
  double random_loss = 0;
};

class Scenario {
 public:
  explicit Scenario(Link link, BweConfig config = {}) : link_(link), bwe_(config), rng_(7) {}

  // Runs for `duration_us`, sending `rate(t)` bits/s; returns after each feedback via `each`.
  template <typename Rate, typename Each>
  void run(int64_t duration_us, Rate rate, Each each) {
    int64_t end = now_ + duration_us;
    for (; now_ < end; now_ += 1000) {
      if (now_ >= next_frame_) {
        next_frame_ += kFrameUs;
        double bits = static_cast<double>(rate(now_)) / 30.0;
        int packets = std::max(1, static_cast<int>(bits / (kPacket * 8) + 0.5));
        for (int i = 0; i < packets; ++i) pending_.push_back(now_ + i * 1000);
      }
      while (!pending_.empty() && pending_.front() <= now_) {
        send(pending_.front(), kPacket);
        pending_.pop_front();
      }
      // A probe cluster: padding on top of the media up to the probe's rate, every millisecond
      // (what SubscriberCongestion::pace does on the worker's timer).
      if (bwe_.probing()) {
        int64_t elapsed = now_ - bwe_.probe_started_us();
        if (elapsed >= probe_duration_us_) {
          bwe_.end_probe(now_);
        } else {
          int64_t due = bwe_.probe_target_bps() * (elapsed + 1000) / 8'000'000 - bwe_.probe_sent_bytes();
          for (; due > 0; due -= kPadding) send(now_, kPadding);
        }
      }
      while (!in_flight_.empty() && in_flight_.front().arrival <= now_) {
        auto p = in_flight_.front();
        in_flight_.pop_front();
        recorder_.on_packet(p.sequence, 1, at(p.arrival));
      }
      if (recorder_.due(at(now_))) {
        std::array<uint8_t, rtc::rtcp::TwccFeedbackBuilder::kMaxSize> out{};
        while (size_t n = recorder_.build_feedback(out, 1, at(now_))) {
          bwe_.on_feedback(parse({out.data(), n}), now_);
        }
        each(now_);
      }
    }
  }
  SendSideBwe& bwe() { return bwe_; }
  Link& link() { return link_; }
  void probe(int64_t target_bps, int64_t duration_us) {
    probe_duration_us_ = duration_us;
    bwe_.start_probe(target_bps, now_);
  }
  int64_t now() const { return now_; }

 private:
  static constexpr int64_t kFrameUs = 33'333;
  static constexpr size_t kPacket = 1200;
  static constexpr size_t kPadding = 275;  // 255 bytes of padding, header and transport-cc
  struct InFlight {
    uint16_t sequence;
    int64_t arrival;
  };
  TwccRecorder::Clock::time_point at(int64_t us) const { return epoch_ + std::chrono::microseconds(us); }
  void send(int64_t t, size_t bytes) {
    uint16_t seq = bwe_.next_sequence();
    bwe_.on_packet_sent(bytes, t);
    if (link_.random_loss > 0 && std::uniform_real_distribution<>(0, 1)(rng_) < link_.random_loss) return;
    int64_t service = static_cast<int64_t>(bytes * 8) * 1'000'000 / link_.capacity_bps;
    int64_t start = std::max(t, queue_free_);
    if (start - t > link_.queue_us) return;  // tail drop
    queue_free_ = start + service;
    in_flight_.push_back({seq, queue_free_ + link_.propagation_us});
  }

  Link link_;
  SendSideBwe bwe_;
  TwccRecorder recorder_;
  std::mt19937 rng_;
  TwccRecorder::Clock::time_point epoch_ = TwccRecorder::Clock::now();
  int64_t now_ = 0, next_frame_ = 0, queue_free_ = 0;
  int64_t probe_duration_us_ = 0;
  std::deque<int64_t> pending_;
  std::deque<InFlight> in_flight_;
};

TEST(SendSideBwe, SteadyArrivalsLetTheEstimateGrow) {
  Scenario s(Link{});
  s.run(10'000'000, [](int64_t) { return 800'000; }, [](int64_t) {});
  // 8 %/s from 1 Mbit/s for ~10 s: about 2.1 Mbit/s, never a congestion signal.
  std::printf("[ numbers  ] clean path at 800 kbit/s: estimate %lld bit/s after 10 s\n",
              static_cast<long long>(s.bwe().estimate_bps()));
  EXPECT_GT(s.bwe().estimate_bps(), 1'800'000);
  EXPECT_FALSE(s.bwe().congested());
  EXPECT_NEAR(s.bwe().acked_bps(), 800'000, 120'000);
  EXPECT_EQ(s.bwe().last_loss(), 0.0);
}

TEST(SendSideBwe, GrowingQueueingDelayDropsTheEstimateWithinAFewFeedbacks) {
  Link link;
  link.capacity_bps = 1'000'000;
  Scenario s(link);
  // 2 s of 800 kbit/s (under capacity), then 2 Mbit/s: the queue grows ~50 ms every 50 ms.
  s.run(2'000'000, [](int64_t) { return 800'000; }, [](int64_t) {});
  ASSERT_FALSE(s.bwe().congested());
  int feedbacks = 0, dropped_after = -1;
  s.run(3'000'000, [](int64_t) { return 2'000'000; }, [&](int64_t) {
    ++feedbacks;
    if (dropped_after < 0 && s.bwe().estimate_bps() < 1'000'000) dropped_after = feedbacks;
  });
  ASSERT_GT(dropped_after, 0);
  std::printf("[ numbers  ] 2 Mbit/s into 1 Mbit/s: below 1 Mbit/s after %d feedbacks; %lld bit/s after 3 s\n",
              dropped_after, static_cast<long long>(s.bwe().estimate_bps()));
  EXPECT_LE(dropped_after, 12);  // within 600 ms of feedback
  EXPECT_TRUE(s.bwe().congested());
  // Lowered to 0.85 × what got through (the bottleneck's 1 Mbit/s).
  EXPECT_LT(s.bwe().estimate_bps(), 950'000);
  EXPECT_GT(s.bwe().estimate_bps(), 300'000);
}

TEST(SendSideBwe, AnAdaptingSenderSettlesNearTheBottleneck) {
  Link link;
  link.capacity_bps = 1'500'000;
  link.queue_us = 300'000;
  BweConfig c;
  c.initial_bps = 3'000'000;
  Scenario s(link, c);
  int64_t sent_rate = 3'000'000;
  int64_t sum = 0, samples = 0;
  s.run(30'000'000, [&](int64_t) { return sent_rate; }, [&](int64_t now) {
    sent_rate = s.bwe().estimate_bps();
    if (now > 10'000'000) {
      sum += sent_rate;
      ++samples;
    }
  });
  ASSERT_GT(samples, 0);
  int64_t mean = sum / samples;
  std::printf("[ numbers  ] 1.5 Mbit/s bottleneck: mean estimate %lld bit/s over 10-30 s\n", static_cast<long long>(mean));
  // After the first overshoot: the mean of the last 20 s within [60 %, 110 %] of the capacity.
  EXPECT_GT(mean, 900'000);
  EXPECT_LT(mean, 1'650'000);
  EXPECT_TRUE(s.bwe().congested());
}

TEST(SendSideBwe, HeavyLossDropsTheEstimate) {
  Link link;
  link.random_loss = 0.25;
  Scenario s(link);
  int feedbacks = 0, dropped_after = -1;
  s.run(4'000'000, [](int64_t) { return 800'000; }, [&](int64_t) {
    ++feedbacks;
    if (dropped_after < 0 && s.bwe().estimate_bps() < 1'000'000) dropped_after = feedbacks;
  });
  ASSERT_GT(dropped_after, 0);
  std::printf("[ numbers  ] 25 %% loss: lowered after %d feedbacks; %lld bit/s after 4 s\n", dropped_after,
              static_cast<long long>(s.bwe().estimate_bps()));
  EXPECT_LE(dropped_after, 14);  // the first loss window (50 packets) closes after ~600 ms
  EXPECT_GT(s.bwe().last_loss(), 0.10);
  EXPECT_LT(s.bwe().loss_based_bps(), s.bwe().delay_based_bps());
  EXPECT_TRUE(s.bwe().congested());
  EXPECT_LT(s.bwe().estimate_bps(), 700'000);  // ×(1 − loss/2) per loss window
}

TEST(SendSideBwe, ModerateLossHolds) {
  // 5 % loss (between the thresholds): the loss bound neither falls nor is lifted.
  Link link;
  link.random_loss = 0.05;
  Scenario s(link);
  s.run(3'000'000, [](int64_t) { return 800'000; }, [](int64_t) {});
  EXPECT_EQ(s.bwe().loss_based_bps(), BweConfig{}.max_bps);
  EXPECT_GT(s.bwe().last_loss(), 0.0);
  EXPECT_FALSE(s.bwe().congested());
}

TEST(SendSideBwe, LossBoundGrowsBackWhenLossStops) {
  Link link;
  link.random_loss = 0.3;
  Scenario s(link);
  s.run(2'000'000, [](int64_t) { return 800'000; }, [](int64_t) {});
  int64_t low = s.bwe().loss_based_bps();
  ASSERT_LT(low, 900'000);
  s.link().random_loss = 0;
  s.run(6'000'000, [](int64_t) { return 800'000; }, [](int64_t) {});
  // 8 %/s for the ~5 s after the last lossy window: about ×1.4.
  EXPECT_GT(s.bwe().loss_based_bps(), low * 13 / 10);
  EXPECT_LT(s.bwe().loss_based_bps(), low * 17 / 10);
}

// ---- probes ------------------------------------------------------------------------------------

// Congested on a 1 Mbit/s path, then the path widens to `after_bps`; the sender keeps to the
// estimate. Returns the scenario after `settle_us` at the new capacity.
std::unique_ptr<Scenario> congested_then(int64_t after_bps, int64_t settle_us) {
  Link link;
  link.capacity_bps = 1'000'000;
  link.queue_us = 300'000;
  auto s = std::make_unique<Scenario>(link);
  int64_t rate = 2'000'000;
  s->run(6'000'000, [&](int64_t) { return rate; }, [&](int64_t) { rate = s->bwe().estimate_bps(); });
  EXPECT_TRUE(s->bwe().congested());
  s->link().capacity_bps = after_bps;
  s->run(settle_us, [&](int64_t) { return std::min<int64_t>(rate, 600'000); }, [&](int64_t) { rate = s->bwe().estimate_bps(); });
  return s;
}

TEST(SendSideBweProbe, AProbeOnAWiderPathRaisesTheEstimateAtOnce) {
  auto s = congested_then(10'000'000, 2'000'000);
  int64_t before = s->bwe().estimate_bps();
  ASSERT_LT(before, 1'500'000);
  s->probe(2'500'000, 250'000);
  std::optional<SendSideBwe::ProbeOutcome> outcome;
  s->run(1'000'000, [](int64_t) { return 600'000; }, [&](int64_t now) {
    if (!outcome) outcome = s->bwe().take_probe_outcome(now);
  });
  ASSERT_TRUE(outcome);
  std::printf("[ numbers  ] probe at 2.5 Mbit/s on a 10 Mbit/s path: sent %lld, received %lld, result %lld bit/s "
              "(%d packets); estimate %lld -> %lld bit/s\n",
              static_cast<long long>(outcome->send_bps), static_cast<long long>(outcome->receive_bps),
              static_cast<long long>(outcome->result_bps), outcome->packets, static_cast<long long>(before),
              static_cast<long long>(s->bwe().estimate_bps()));
  EXPECT_TRUE(outcome->success);
  EXPECT_NEAR(outcome->result_bps, 2'500'000, 300'000);
  EXPECT_GE(s->bwe().estimate_bps(), 2'100'000);
  // Taken once.
  EXPECT_FALSE(s->bwe().take_probe_outcome(s->now()));
}

TEST(SendSideBweProbe, AProbeIntoAFullPathReportsWhatThePathCarries) {
  auto s = congested_then(1'000'000, 2'000'000);
  s->probe(2'500'000, 250'000);
  std::optional<SendSideBwe::ProbeOutcome> outcome;
  s->run(1'500'000, [](int64_t) { return 600'000; }, [&](int64_t now) {
    if (!outcome) outcome = s->bwe().take_probe_outcome(now);
  });
  ASSERT_TRUE(outcome);
  std::printf("[ numbers  ] probe at 2.5 Mbit/s on a 1 Mbit/s path: sent %lld, received %lld, result %lld bit/s; "
              "estimate %lld bit/s\n",
              static_cast<long long>(outcome->send_bps), static_cast<long long>(outcome->receive_bps),
              static_cast<long long>(outcome->result_bps), static_cast<long long>(s->bwe().estimate_bps()));
  // The receive rate is the bottleneck's: 95 % of it, far below what the next step needed.
  EXPECT_LT(outcome->result_bps, 1'100'000);
  EXPECT_GT(outcome->result_bps, 700'000);
  EXPECT_LT(s->bwe().estimate_bps(), 1'200'000);
}

TEST(SendSideBweProbe, AProbeWithoutFeedbackFailsAfterTheTimeout) {
  SendSideBwe bwe;
  bwe.start_probe(2'000'000, 0);
  EXPECT_TRUE(bwe.probing());
  for (int i = 0; i < 20; ++i) bwe.on_packet_sent(275, i * 1000);
  EXPECT_EQ(bwe.probe_sent_bytes(), 20 * 275);
  bwe.end_probe(20'000);
  EXPECT_FALSE(bwe.probing());
  EXPECT_TRUE(bwe.probe_pending());
  EXPECT_FALSE(bwe.take_probe_outcome(500'000));  // still waiting for feedback
  auto o = bwe.take_probe_outcome(20'000 + SendSideBwe::kProbeFeedbackTimeoutUs);
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->success);
  EXPECT_EQ(o->packets, 20);
  EXPECT_EQ(bwe.estimate_bps(), 1'000'000);
  // Packets after the cluster do not count for it.
  bwe.on_packet_sent(1200, 30'000);
  EXPECT_EQ(bwe.probe_sent_bytes(), 20 * 275);
}

TEST(SendSideBweProbe, AProbeWithHeavyLossFails) {
  SendSideBwe bwe;
  bwe.start_probe(2'000'000, 0);
  for (int i = 0; i < 40; ++i) bwe.on_packet_sent(275, i * 1000);
  bwe.end_probe(40'000);
  std::vector<TwccStatus> st;
  for (int i = 0; i < 40; ++i) st.push_back({static_cast<uint16_t>(i), i % 3 != 0, 50'000 + i * 1000});
  bwe.on_feedback(st, 100'000);
  auto o = bwe.take_probe_outcome(100'000);
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->success);  // a third lost
  EXPECT_LE(bwe.estimate_bps(), 1'000'000);
}

}  // namespace
}  // namespace parlor::sfu
