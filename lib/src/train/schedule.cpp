// schedule.cpp: learning-rate schedules.
#include "scaleinv/train/schedule.hpp"

#include <cmath>
#include <stdexcept>

#include "scaleinv/error.hpp"

namespace scaleinv::train {

double schedule::at(std::size_t epoch) const {
  switch (type) {
    case kind::constant:
      return lr;
    case kind::step:
      return lr * std::pow(gamma, static_cast<double>(epoch / (step == 0 ? 1 : step)));
    case kind::exponential:
      return lr * std::pow(gamma, static_cast<double>(epoch));
  }
  return lr;
}

schedule schedule::parse(const std::string& text, double lr) {
  schedule s;
  s.lr = lr;
  auto fail = [&] {
    throw invalid_argument("--schedule '" + text +
                           "': expected constant, step:K:GAMMA (multiply by GAMMA every K "
                           "epochs) or exp:GAMMA (multiply by GAMMA every epoch)");
  };
  try {
    if (text == "constant") return s;
    if (text.rfind("step:", 0) == 0) {
      auto colon = text.find(':', 5);
      if (colon == std::string::npos) fail();
      s.type = kind::step;
      std::size_t used = 0;
      s.step = std::stoul(text.substr(5, colon - 5), &used);
      s.gamma = std::stod(text.substr(colon + 1));
      if (s.step == 0 || !(s.gamma > 0)) fail();
      return s;
    }
    if (text.rfind("exp:", 0) == 0) {
      s.type = kind::exponential;
      s.gamma = std::stod(text.substr(4));
      if (!(s.gamma > 0)) fail();
      return s;
    }
  } catch (const std::logic_error&) { fail(); }
  fail();
  return s;
}

}  // namespace scaleinv::train
