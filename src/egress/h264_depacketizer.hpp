#pragma once
// H.264 access units from RTP payloads (RFC 6184, packetization-mode 1 as WebRTC sends it):
// single NAL unit packets (types 1–23), STAP-A (24, §5.7.1) and FU-A (28, §5.8). The output is
// Annex-B (start code before every NAL unit): libavformat's MP4 and Matroska muxers convert it to
// length-prefixed NAL units themselves when the extradata is Annex-B too. The latest SPS and PPS
// are kept: they form the extradata, and are put in front of an IDR picture that came without
// them, so every keyframe in the file decodes on its own. STAP-B, MTAP and FU-B (not used by
// WebRTC) damage the frame.
#include <cstdint>
#include <span>
#include <vector>

namespace parlor::egress {

class H264Depacketizer {
 public:
  static constexpr size_t kMaxFrameBytes = 8 << 20;
  static constexpr size_t kMaxParameterSetBytes = 1024;

  void begin_frame();
  // The next payload of the access unit in sequence order; false if malformed or if it cannot
  // continue the access unit (an FU-A continuation without its start): the frame is damaged.
  bool add(std::span<const uint8_t> payload);
  // The access unit in Annex-B (valid until the next begin_frame), or empty if it is unusable
  // (unfinished FU-A, no NAL unit).
  std::span<const uint8_t> end_frame();
  // An IDR picture with an SPS and a PPS available (in this access unit or an earlier one).
  bool keyframe() const { return keyframe_; }
  // Annex-B SPS + PPS, empty until both were seen.
  std::span<const uint8_t> extradata() const { return extradata_; }

 private:
  bool add_nal(std::span<const uint8_t> nal);
  void append_start_code(std::vector<uint8_t>& out) const;

  std::vector<uint8_t> buffer_;       // the access unit being assembled
  std::vector<uint8_t> sps_, pps_;    // latest parameter sets (NAL unit without start code)
  std::vector<uint8_t> extradata_;    // Annex-B SPS + PPS
  std::vector<uint8_t> output_;       // buffer_ with parameter sets put in front (an IDR without them)
  bool valid_ = true, in_fu_ = false;
  bool has_idr_ = false, has_sps_ = false, has_pps_ = false, keyframe_ = false;
};

}  // namespace parlor::egress
