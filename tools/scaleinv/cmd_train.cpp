// tools/scaleinv/cmd_train.cpp: `scaleinv train NET --data D --optimizer sgd|gsgd
// [--param weights|weightnorm|gmp] ...`: the reference trainer, with progress, a metrics log,
// atomic checkpoints, bit-identical resume and a checkpoint on Ctrl-C.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <numeric>
#include <unistd.h>

#include "commands.hpp"
#include "scaleinv/balance/balance.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/io/dataset.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/train/model.hpp"
#include "scaleinv/train/optimizer.hpp"
#include "scaleinv/train/parameterization.hpp"

namespace scaleinv::cli {
namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted.store(true); }

struct train_options {
  std::string net, data = "fashion-mnist", optimizer = "sgd", param = "weights", schedule = "constant", loss, log,
                   checkpoint, resume, output, balance = "none";
  std::size_t epochs = 5, batch = 128;
  double balance_p = 2.0, balance_tol = 1e-6, balance_depth_factor = 1.0;
  double lr = 0.01, momentum = 0.0, weight_decay = 0.0, init_rescale = 0.0, test_fraction = 0.2;
  std::uint64_t seed = 1;
  std::size_t interrupt_after = 0;  // testing: act as if Ctrl-C came after this many batches (0: never)
  bool float64 = false, json = false, quiet = false;
};

// --balance: none, before (the start), every=K (after every K-th optimizer step, counted over the
// whole run so that a resumed run balances at the same steps).
struct balance_plan {
  bool before = false;
  std::size_t every = 0;
};

balance_plan parse_balance(const std::string& text) {
  balance_plan plan;
  if (text == "none") return plan;
  if (text == "before") {
    plan.before = true;
    return plan;
  }
  if (text.rfind("every=", 0) == 0) {
    const std::string k = text.substr(6);
    std::size_t used = 0;
    unsigned long long v = 0;
    try {
      v = std::stoull(k, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == k.size() && !k.empty() && k[0] != '-' && v > 0) {
      plan.every = static_cast<std::size_t>(v);
      return plan;
    }
  }
  throw invalid_argument(fmt::format("--balance {}: expected none, before or every=K with K a positive integer", text));
}

// The order of the samples in an epoch: a Fisher-Yates shuffle seeded by (seed, epoch), so a
// resumed run sees the same batches as an uninterrupted one.
std::vector<std::size_t> epoch_order(std::size_t n, std::uint64_t seed, std::size_t epoch) {
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  splitmix64 rng(seed * 0x9E3779B97F4A7C15ULL + epoch + 1);
  for (std::size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
  return idx;
}

template <class Scalar>
struct evaluation {
  double loss = 0, accuracy = 0;
};

template <class Scalar>
evaluation<Scalar> evaluate_set(const train::model<Scalar>& m, const std::vector<Scalar>& w, const dataset& d,
                                 train::loss_kind loss) {
  evaluation<Scalar> out;
  const std::size_t n = d.size(), chunk = 2048;
  if (n == 0) return out;
  std::size_t correct = 0;
  double total = 0;
  for (std::size_t s = 0; s < n; s += chunk) {
    const std::size_t b = std::min(chunk, n - s);
    train::matrix<Scalar> x = d.x.middleCols(static_cast<Eigen::Index>(s), static_cast<Eigen::Index>(b)).template cast<Scalar>();
    std::size_t right = 0;
    if (d.is_classification()) {
      std::vector<int> labels(d.labels.begin() + static_cast<std::ptrdiff_t>(s), d.labels.begin() + static_cast<std::ptrdiff_t>(s + b));
      total += static_cast<double>(m.loss(w, x, &labels, nullptr, loss, &right)) * static_cast<double>(b);
    } else {
      train::matrix<Scalar> t = d.targets.middleCols(static_cast<Eigen::Index>(s), static_cast<Eigen::Index>(b)).template cast<Scalar>();
      total += static_cast<double>(m.loss(w, x, nullptr, &t, loss)) * static_cast<double>(b);
    }
    correct += right;
  }
  out.loss = total / static_cast<double>(n);
  out.accuracy = d.is_classification() ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
  return out;
}

// A checkpoint: the network JSON with the weights (the effective weights under --param
// weightnorm or gmp: a network with the same function), plus a "training" object holding what a
// resume needs to continue bit-identically (for weightnorm and gmp also the parameters, and GmP's
// fixed direction signs of fan-in-1 units).
template <class Scalar>
void write_checkpoint(const std::string& path, network net, const std::vector<Scalar>& w, const std::vector<Scalar>& state,
                      const train_options& o, std::size_t epoch, std::size_t batch_index,
                      const train::parameterization<Scalar>* param = nullptr, const std::vector<Scalar>* params = nullptr) {
  net.set_weights(std::vector<double>(w.begin(), w.end()));
  std::string text = write_network_json(net);
  nlohmann::json t = {{"epoch", epoch},        {"batch", batch_index}, {"optimizer", o.optimizer}, {"seed", o.seed},
                      {"float64", o.float64},  {"lr", o.lr},           {"momentum", o.momentum},
                      {"weight_decay", o.weight_decay}, {"batch_size", o.batch}, {"data", o.data},
                      {"param", o.param}, {"balance", o.balance},
                      {"state", std::vector<double>(state.begin(), state.end())}};
  if (param != nullptr && params != nullptr) {
    t["params"] = std::vector<double>(params->begin(), params->end());
    t["signs"] = std::vector<double>(param->signs().begin(), param->signs().end());
  }
  text.erase(text.size() - 3);  // "\n}\n"
  text += ",\n  \"training\": " + t.dump() + "\n}\n";
  write_file_atomic(path, text);
}

template <class Scalar>
int run_training(const train_options& o, std::ostream& out) {
  network net = load_network(o.resume.empty() ? o.net : o.resume);
  nlohmann::json resume_state;
  std::size_t start_epoch = 0, start_batch = 0;
  if (!o.resume.empty()) {
    nlohmann::json doc = nlohmann::json::parse(read_text_file(o.resume));
    if (!doc.contains("training")) throw parse_error(o.resume, 0, 0, "not a checkpoint: it has no \"training\" object");
    resume_state = doc["training"];
    // Checkpoints from before --param existed trained the weights.
    if (!resume_state.contains("param")) resume_state["param"] = "weights";
    if (!resume_state.contains("balance")) resume_state["balance"] = "none";
    for (const char* key : {"optimizer", "param", "balance", "seed", "float64", "batch_size", "data"}) {
      bool same = key == std::string("optimizer") ? resume_state[key] == o.optimizer
                  : key == std::string("param")   ? resume_state[key] == o.param
                  : key == std::string("balance") ? resume_state[key] == o.balance
                  : key == std::string("seed")    ? resume_state[key] == o.seed
                  : key == std::string("float64") ? resume_state[key] == o.float64
                  : key == std::string("batch_size") ? resume_state[key] == o.batch
                                                     : resume_state[key] == o.data;
      if (!same)
        throw invalid_argument(fmt::format("--resume: the checkpoint was made with {} = {}; give the same value to continue "
                                           "bit-identically", key, resume_state[key].dump()));
    }
    start_epoch = resume_state["epoch"].get<std::size_t>();
    start_batch = resume_state["batch"].get<std::size_t>();
  }
  data_split data = load_data(o.data, o.seed, o.test_fraction);
  const dataset& tr = data.train;
  train::loss_kind loss = o.loss.empty() ? (tr.is_classification() ? train::loss_kind::cross_entropy : train::loss_kind::mse)
                          : o.loss == "ce" ? train::loss_kind::cross_entropy
                                           : train::loss_kind::mse;
  if (loss == train::loss_kind::cross_entropy && !tr.is_classification())
    throw invalid_argument("--loss ce needs class labels; " + tr.name + " is a regression set (use --loss mse)");
  train::model<Scalar> m(net);
  if (m.num_inputs() != tr.features())
    throw invalid_argument(fmt::format("the network has {} inputs, the data {} features", m.num_inputs(), tr.features()));
  std::size_t want_outputs = tr.is_classification() ? tr.classes : static_cast<std::size_t>(tr.targets.rows());
  if (m.num_outputs() != want_outputs)
    throw invalid_argument(fmt::format("the network has {} outputs, the data {} {}", m.num_outputs(), want_outputs,
                                       tr.is_classification() ? "classes" : "targets"));
  if (!net.has_weights()) init_weights(net, o.seed);
  if (o.init_rescale > 0 && o.resume.empty()) net = apply_rescaling(net, random_scales(net, o.seed + 1, o.init_rescale));
  std::vector<Scalar> w(net.weights().begin(), net.weights().end()), grad;
  // --param weightnorm / gmp: SGD runs on the parameters p; w holds their effective weights, the
  // network train::model evaluates (recomputed from p before every gradient and evaluation). Weight
  // decay is added by the parameterization (scale parameters only), not by SGD.
  const train::param_kind kind = train::parse_param_kind(o.param);
  std::unique_ptr<train::parameterization<Scalar>> param;
  std::vector<Scalar> p, grad_p;
  if (kind != train::param_kind::weights) {
    param = std::make_unique<train::parameterization<Scalar>>(net, kind);
    if (resume_state.is_null()) {
      p = param->from_weights(net.weights());
    } else {
      if (!resume_state.contains("params") || !resume_state.contains("signs"))
        throw parse_error(o.resume, 0, 0, "the checkpoint has no \"params\" or \"signs\" for --param " + o.param);
      auto saved = resume_state["params"].get<std::vector<double>>();
      auto signs = resume_state["signs"].get<std::vector<double>>();
      if (saved.size() != param->size() || signs.size() != param->signs().size())
        throw parse_error(o.resume, 0, 0, "the checkpoint's parameters do not fit this network");
      p.assign(saved.begin(), saved.end());
      param->set_signs(std::vector<Scalar>(signs.begin(), signs.end()));
    }
    param->effective_weights(p, w);
  }
  train::sgd_options so{o.momentum, param ? 0.0 : o.weight_decay};
  std::unique_ptr<train::sgd<Scalar>> sgd;
  std::unique_ptr<train::gsgd<Scalar>> gsgd;
  if (o.optimizer == "gsgd") gsgd = std::make_unique<train::gsgd<Scalar>>(net, so);
  else sgd = std::make_unique<train::sgd<Scalar>>(param ? p.size() : w.size(), so);
  std::vector<Scalar>& state = gsgd ? gsgd->state() : sgd->state();
  if (!resume_state.is_null()) {
    auto saved = resume_state["state"].get<std::vector<double>>();
    if (saved.size() != state.size()) throw parse_error(o.resume, 0, 0, "the optimizer state does not fit this run");
    std::copy(saved.begin(), saved.end(), state.begin());
  }
  train::schedule sched = train::schedule::parse(o.schedule, o.lr);
  // Synaptic balance (lib/balance): the momentum buffer is transformed as a gradient.
  const balance_plan plan = parse_balance(o.balance);
  balance_options bo;
  bo.p = o.balance_p;
  bo.tolerance = o.balance_tol;
  bo.depth_factor = o.balance_depth_factor;
  bo.max_iterations = 100;
  std::size_t balancings = 0;
  double balance_seconds = 0, balance_worst = 0;  // the largest imbalance left by a balancing so far
  auto rebalance = [&]() {
    const auto b0 = std::chrono::steady_clock::now();
    balance_report r = balance_training(net, w, state, bo);
    balance_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
    ++balancings;
    if (!(r.max_imbalance_after <= balance_worst)) balance_worst = r.max_imbalance_after;
    return r;
  };
  if (plan.before && resume_state.is_null()) {
    balance_report r = rebalance();
    if (!o.json && !o.quiet)
      out << fmt::format("balanced the start (p = {}): cost {:.6g} -> {:.6g}, largest imbalance {:.3e} -> {:.3e}\n", o.balance_p,
                         r.cost_before, r.cost_after, r.max_imbalance_before, r.max_imbalance_after);
  }

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log(nullptr, &std::fclose);
  bool csv = false;
  if (!o.log.empty()) {
    csv = o.log.size() >= 4 && o.log.substr(o.log.size() - 4) == ".csv";
    bool exists = access(o.log.c_str(), F_OK) == 0;
    log.reset(std::fopen(o.log.c_str(), o.resume.empty() ? "w" : "a"));
    if (!log) throw error(fmt::format("cannot write the log {}", o.log));
    if (csv && (o.resume.empty() || !exists))
      std::fputs("epoch,optimizer,lr,train_loss,test_loss,test_accuracy,seconds,basis_paths,param\n", log.get());
  }
  const bool tty = !o.quiet && isatty(STDERR_FILENO) != 0;
  g_interrupted.store(false);
  auto previous = std::signal(SIGINT, on_sigint);
  struct restore {
    void (*handler)(int);
    ~restore() { std::signal(SIGINT, handler); }
  } restore_signal{previous};
  const std::size_t n = tr.size(), batches = (n + o.batch - 1) / o.batch;
  std::size_t steps_taken = 0;
  if (!o.json && !o.quiet)
    out << fmt::format("training {} on {} ({} train, {} test), {} ({}), {} epochs, batch {}, {}\n", o.net, tr.name, n,
                       data.test.size(), o.optimizer,
                       gsgd    ? fmt::format("{} basis paths", gsgd->basis_size())
                       : param ? fmt::format("{}: {} parameters for {} weights", o.param, param->size(), w.size())
                               : std::string("weights"),
                       o.epochs, o.batch, o.float64 ? "float64" : "float32");
  for (std::size_t epoch = start_epoch; epoch < o.epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    const double lr = sched.at(epoch);
    auto order = epoch_order(n, o.seed, epoch);
    double total = 0;
    std::size_t seen = 0;
    train::matrix<Scalar> x(static_cast<Eigen::Index>(tr.features()), 0);
    train::matrix<Scalar> t;
    std::vector<int> labels;
    for (std::size_t b = epoch == start_epoch ? start_batch : 0; b < batches; ++b) {
      if (g_interrupted.load() || (o.interrupt_after > 0 && steps_taken == o.interrupt_after)) {
        std::string path = o.checkpoint.empty() ? "scaleinv-interrupted.json" : o.checkpoint;
        if (param) param->effective_weights(p, w);  // w is one step behind p here
        write_checkpoint(path, net, w, state, o, epoch, b, param.get(), &p);
        out << fmt::format("interrupted at epoch {}, batch {}: checkpoint written to {} (continue with --resume {})\n",
                           epoch + 1, b, path, path);
        return 130;
      }
      const std::size_t s = b * o.batch, size = std::min(o.batch, n - s);
      x.resize(static_cast<Eigen::Index>(tr.features()), static_cast<Eigen::Index>(size));
      labels.resize(size);
      if (!tr.is_classification()) t.resize(tr.targets.rows(), static_cast<Eigen::Index>(size));
      for (std::size_t k = 0; k < size; ++k) {
        const auto col = static_cast<Eigen::Index>(order[s + k]);
        x.col(static_cast<Eigen::Index>(k)) = tr.x.col(col).template cast<Scalar>();
        if (tr.is_classification()) labels[k] = tr.labels[static_cast<std::size_t>(col)];
        else t.col(static_cast<Eigen::Index>(k)) = tr.targets.col(col).template cast<Scalar>();
      }
      if (param) param->effective_weights(p, w);
      Scalar value = m.loss_and_gradient(w, x, tr.is_classification() ? &labels : nullptr,
                                         tr.is_classification() ? nullptr : &t, loss, grad);
      if (gsgd) {
        gsgd->step(w, grad, lr);
      } else if (param) {
        param->backprop(p, grad, grad_p);
        param->add_weight_decay(p, grad_p, o.weight_decay);
        sgd->step(p, grad_p, lr);
      } else {
        sgd->step(w, grad, lr);
      }
      ++steps_taken;
      if (plan.every > 0 && (epoch * batches + b + 1) % plan.every == 0) rebalance();
      total += static_cast<double>(value) * static_cast<double>(size);
      seen += size;
      if (tty && (b % 16 == 0 || b + 1 == batches)) {
        const int width = 30, done = static_cast<int>(width * (b + 1) / batches);
        std::fprintf(stderr, "\repoch %zu/%zu [%s%s] %zu/%zu  loss %.4f ", epoch + 1, o.epochs, std::string(static_cast<std::size_t>(done), '#').c_str(),
                     std::string(static_cast<std::size_t>(width - done), '.').c_str(), b + 1, batches, total / static_cast<double>(seen));
        std::fflush(stderr);
      }
    }
    if (tty) std::fputs("\r\033[K", stderr);
    if (param) param->effective_weights(p, w);
    auto test = evaluate_set(m, w, data.test, loss);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double train_loss = seen > 0 ? total / static_cast<double>(seen) : 0.0;
    nlohmann::json line = {{"epoch", epoch + 1},         {"optimizer", o.optimizer}, {"param", o.param},
                           {"lr", lr},                   {"train_loss", train_loss}, {"test_loss", test.loss},
                           {"test_accuracy", test.accuracy}, {"seconds", seconds}};
    if (gsgd) line["basis_paths"] = gsgd->basis_size();
    if (o.balance != "none") {
      line["balance"] = o.balance;
      line["balancings"] = balancings;
      line["balance_seconds"] = balance_seconds;
      line["balance_max_imbalance"] = balance_worst;
    }
    if (o.json) out << line.dump() << "\n";
    else if (!o.quiet)
      out << fmt::format("epoch {:>3}/{}  lr {:.4g}  train_loss {:.5f}  test_loss {:.5f}{}  {:.1f} s\n", epoch + 1, o.epochs, lr,
                         train_loss, test.loss, tr.is_classification() ? fmt::format("  test_acc {:.4f}", test.accuracy) : "",
                         seconds);
    out.flush();
    if (log) {
      if (csv)
        std::fprintf(log.get(), "%zu,%s,%.17g,%.17g,%.17g,%.17g,%.3f,%s,%s\n", epoch + 1, o.optimizer.c_str(), lr, train_loss,
                     test.loss, test.accuracy, seconds, gsgd ? std::to_string(gsgd->basis_size()).c_str() : "", o.param.c_str());
      else std::fprintf(log.get(), "%s\n", line.dump().c_str());
      std::fflush(log.get());
    }
    if (!o.checkpoint.empty()) write_checkpoint(o.checkpoint, net, w, state, o, epoch + 1, 0, param.get(), &p);
  }
  if (!o.output.empty()) {
    if (param) param->effective_weights(p, w);
    net.set_weights(std::vector<double>(w.begin(), w.end()));
    write_file_atomic(o.output, write_network_json(net));
  }
  return 0;
}
}  // namespace

action add_train(CLI::App& app) {
  auto o = std::make_shared<train_options>();
  app.add_option("NET", o->net, kNetHelp)->required();
  app.add_option("--data", o->data,
                 "fashion-mnist[:DIR], idx:IMAGES,LABELS, csv:PATH, teacher:..., spirals:..., blobs:... (docs/formats.md); "
                 "default fashion-mnist");
  app.add_option("--optimizer", o->optimizer, "sgd (on the weights) or gsgd (on the basis-path values); default sgd")
      ->check(CLI::IsMember({"sgd", "gsgd"}));
  app.add_option("--param", o->param,
                 "what SGD trains: weights (default), weightnorm (w = g v/||v|| per unit, Salimans & Kingma) or gmp (each "
                 "hidden unit as a radius, n-1 angles and a bias, Chen & Ge); weightnorm and gmp need --optimizer sgd and a "
                 "layered MLP")
      ->check(CLI::IsMember({"weights", "weightnorm", "gmp"}));
  app.add_option("--balance", o->balance,
                 "synaptic balance during SGD on the weights: none (default), before (balance the start) or every=K "
                 "(balance after every K-th step; the momentum buffer is transformed with the weights)");
  app.add_option("--balance-p", o->balance_p, "the balancing cost's exponent, sum |w|^p (default 2)")->check(CLI::PositiveNumber);
  app.add_option("--balance-depth-factor", o->balance_depth_factor,
                 "ENorm's c >= 1 for the balancing cost: edge e costs c^depth(head) |w|^p (default 1)")
      ->check(CLI::Range(1.0, 1e300));
  app.add_option("--balance-tol", o->balance_tol,
                 "balance until every unit's |IN - OUT| <= tol * max(IN, OUT), computed in double (default 1e-6)")
      ->check(CLI::Range(0.0, 0.999999));
  app.add_option("--epochs", o->epochs, "epochs (default 5)")->check(non_negative());
  app.add_option("--lr", o->lr, "learning rate (default 0.01)")->check(CLI::PositiveNumber);
  app.add_option("--schedule", o->schedule, "constant, step:K:GAMMA or exp:GAMMA (default constant)");
  app.add_option("--batch", o->batch, "batch size (default 128)")->check(CLI::PositiveNumber);
  app.add_option("--momentum", o->momentum, "momentum (default 0; G-SGD: in path-value space)")->check(CLI::Range(0.0, 0.9999));
  app.add_option("--weight-decay", o->weight_decay,
                 "L2 weight decay (default 0; G-SGD: on the path values; weightnorm/gmp: on g, r, biases and gmp's output "
                 "layer, not on directions)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o->seed, "seed for initialisation, data split and shuffling (default 1)")->check(non_negative());
  app.add_option("--loss", o->loss, "ce (softmax cross-entropy) or mse; default ce for labels, mse for targets")
      ->check(CLI::IsMember({"ce", "mse"}));
  app.add_option("--init-rescale", o->init_rescale,
                 "apply a random positive rescaling of spread S (log-normal) to the initialisation")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--test-fraction", o->test_fraction, "held-out fraction for sets without a test split (default 0.2)")
      ->check(CLI::Range(0.0, 0.9));
  app.add_flag("--float64", o->float64, "train in double precision (default float32)");
  app.add_option("--log", o->log, "metrics per epoch to this file: CSV if it ends in .csv, else JSON lines");
  app.add_option("--checkpoint", o->checkpoint, "write a checkpoint (network JSON + training state) here after each epoch");
  app.add_option("--resume", o->resume, "continue from a checkpoint, bit-identically (same options)");
  app.add_option("-o,--output", o->output,
                 "write the trained network (JSON) here at the end (weightnorm/gmp: the effective weights, same function)");
  app.add_flag("--json", o->json, "one JSON object per epoch on standard output");
  app.add_flag("--quiet", o->quiet, "no progress bar and no epoch lines (the log and --json still work)");
  app.add_option("--interrupt-after", o->interrupt_after, "for tests: behave as on Ctrl-C after N batches")
      ->check(non_negative())
      ->group("");  // hidden
  app.footer(
      "Ctrl-C writes a checkpoint (--checkpoint, else scaleinv-interrupted.json) and exits with 130.\n"
      "G-SGD (Meng et al., ICLR 2019): gradient descent on the values of the basis paths, re-allocated to weights\n"
      "with the p() edges fixed; its learning rate is in path-value units, so compare each optimizer over its own\n"
      "grid. Example: scaleinv train mlp:784-256-256-10,bias --data fashion-mnist --optimizer gsgd --epochs 5\n"
      "--param gmp|weightnorm: SGD on other coordinates of the same network; the start is the standard initialisation\n"
      "converted (same function), and the log, checkpoints and -o carry the effective weights (docs/training.md).\n"
      "Example: scaleinv train mlp:784-256-256-10,bias --data fashion-mnist --param gmp --lr 0.1 --epochs 3\n"
      "--balance before|every=K: rescale the hidden units to the balanced network of their orbit (docs/balance.md),\n"
      "same function; with momentum the buffer is transformed like a gradient.\n"
      "Example: scaleinv train mlp:784-256-256-10,bias --data fashion-mnist --momentum 0.9 --balance every=100");
  return [o](std::ostream& out) {
    if (o->param != "weights" && o->optimizer != "sgd")
      throw invalid_argument(fmt::format("--param {} works with --optimizer sgd only: G-SGD trains its own coordinates (the "
                                         "basis-path values)",
                                         o->param));
    parse_balance(o->balance);
    if (o->balance != "none" && (o->optimizer != "sgd" || o->param != "weights"))
      throw invalid_argument(fmt::format("--balance {} works with --optimizer sgd and --param weights only (here: --optimizer {}, "
                                         "--param {}): G-SGD's path values and the other parameterizations do not see a "
                                         "rescaling of the weights",
                                         o->balance, o->optimizer, o->param));
    return o->float64 ? run_training<double>(*o, out) : run_training<float>(*o, out);
  };
}

}  // namespace scaleinv::cli
