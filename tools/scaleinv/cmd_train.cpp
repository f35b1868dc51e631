// tools/scaleinv/cmd_train.cpp: `scaleinv train NET --data D --optimizer sgd|gsgd
// [--param weights|weightnorm|gmp] ...`: the reference trainer's front end. The loop is
// lib/train/trainer; this file turns options into trainer_options, and progress, epoch reports and
// Ctrl-C into a progress bar, epoch lines, a metrics log and a checkpoint.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli.hpp"
#include "commands.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/checkpoint.hpp"
#include "scaleinv/io/dataset.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/train/trainer.hpp"

namespace scaleinv::cli {
namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted.store(true); }

struct train_options {
  std::string net, data = "fashion-mnist", optimizer = "sgd", param = "weights", schedule = "constant", loss, log,
                   checkpoint, resume, output, balance = "none", skeleton = "diagonal";
  std::size_t epochs = 5, batch = 128;
  double balance_p = 2.0, balance_tol = 1e-6, balance_depth_factor = 1.0;
  double lr = 0.01, momentum = 0.0, weight_decay = 0.0, init_rescale = 0.0, test_fraction = 0.2;
  std::uint64_t seed = 1;
  std::size_t interrupt_after = 0;  // testing: act as if Ctrl-C came after this many batches (0: never)
  bool float64 = false, json = false, quiet = false, skeleton_one = false;
};

train::trainer_options to_trainer_options(const train_options& o) {
  train::trainer_options t;
  t.settings = {o.optimizer, o.param, o.balance,  o.data,         o.seed,     o.float64,
                o.batch,     o.lr,    o.momentum, o.weight_decay, o.skeleton, o.skeleton_one};
  t.schedule = o.schedule;
  if (!o.loss.empty()) t.loss = o.loss == "ce" ? train::loss_kind::cross_entropy : train::loss_kind::mse;
  t.epochs = o.epochs;
  t.init_rescale = o.init_rescale;
  t.balancing.p = o.balance_p;
  t.balancing.tolerance = o.balance_tol;
  t.balancing.depth_factor = o.balance_depth_factor;
  t.checkpoint = o.checkpoint;
  t.cancel_after_steps = o.interrupt_after;
  return t;
}

// The metrics log: CSV when the name ends in .csv, else JSON lines; appended to on --resume. CSV
// numbers are written in the shortest form that reads back exactly; an empty field is JSON's null
// (no test set, no accuracy for regression, no basis paths for SGD, no balancing).
class metrics_log {
 public:
  explicit metrics_log(const train_options& o) {
    if (o.log.empty()) return;
    csv_ = o.log.size() >= 4 && o.log.substr(o.log.size() - 4) == ".csv";
    const bool exists = access(o.log.c_str(), F_OK) == 0;
    file_.reset(std::fopen(o.log.c_str(), o.resume.empty() ? "w" : "a"));
    if (!file_) throw error(fmt::format("cannot write the log {}", o.log));
    if (csv_ && (o.resume.empty() || !exists))
      std::fputs(
          "epoch,optimizer,lr,train_loss,test_loss,test_accuracy,seconds,basis_paths,param,balance,balancings,"
          "balance_seconds,balance_max_imbalance\n",
          file_.get());
  }
  void write(const train::epoch_report& r, const train_options& o, const nlohmann::json& line) {
    if (!file_) return;
    if (csv_) {
      auto number = [](const std::optional<double>& x) { return x ? fmt::format("{}", *x) : std::string(); };
      const bool balancing = o.balance != "none";
      std::fputs(fmt::format("{},{},{},{},{},{},{:.3f},{},{},{},{},{},{}\n", r.epoch, o.optimizer, r.lr, r.train_loss,
                             number(r.test_loss), number(r.test_accuracy), r.seconds,
                             r.basis_paths ? std::to_string(*r.basis_paths) : "", o.param, balancing ? o.balance : "",
                             balancing ? std::to_string(r.balancings) : "", balancing ? number(r.balance_seconds) : "",
                             balancing ? number(r.balance_max_imbalance) : "")
                     .c_str(),
                 file_.get());
    } else {
      std::fprintf(file_.get(), "%s\n", line.dump().c_str());
    }
    std::fflush(file_.get());
  }

 private:
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, &std::fclose};
  bool csv_ = false;
};

nlohmann::json optional_json(const std::optional<double>& x) {
  return x ? nlohmann::json(*x) : nlohmann::json(nullptr);
}

nlohmann::json epoch_json(const train::epoch_report& r, const train_options& o) {
  nlohmann::json line = {{"epoch", r.epoch},
                         {"optimizer", o.optimizer},
                         {"param", o.param},
                         {"lr", r.lr},
                         {"train_loss", r.train_loss},
                         {"test_loss", optional_json(r.test_loss)},
                         {"test_accuracy", optional_json(r.test_accuracy)},
                         {"seconds", r.seconds}};
  if (r.basis_paths) line["basis_paths"] = *r.basis_paths;
  if (o.balance != "none") {
    line["balance"] = o.balance;
    line["balancings"] = r.balancings;
    line["balance_seconds"] = r.balance_seconds;
    line["balance_max_imbalance"] = r.balance_max_imbalance;
  }
  return line;
}

std::string epoch_text(const train::epoch_report& r) {
  std::string test = !r.test_loss ? "  no test set" : fmt::format("  test_loss {:.5f}", *r.test_loss);
  if (r.test_accuracy) test += fmt::format("  test_acc {:.4f}", *r.test_accuracy);
  return fmt::format("epoch {:>3}/{}  lr {:.4g}  train_loss {:.5f}{}  {:.1f} s\n", r.epoch, r.epochs, r.lr,
                     r.train_loss, test, r.seconds);
}

// With --resume, NET may be left out; given, it must be the checkpoint's network (weights aside).
checkpoint read_resume(const train_options& o) {
  checkpoint c = read_checkpoint(o.resume);
  if (!o.net.empty()) {
    const network named = load_network(o.net);
    if (auto diff = structure_difference(named, c.net))
      throw invalid_argument(
          fmt::format("NET {} is not the network of the checkpoint {}: {}; give the checkpoint's network, "
                      "or leave NET out with --resume",
                      o.net, o.resume, *diff));
  }
  return c;
}

template <class Scalar>
int run_training(const train_options& o, std::ostream& out) {
  std::optional<checkpoint> resumed;
  network net;
  if (!o.resume.empty()) resumed = read_resume(o);
  else net = load_network(o.net);
  auto data = std::make_shared<const data_split>(load_data(o.data, o.seed, o.test_fraction));
  train::trainer<Scalar> t = resumed
                                 ? train::trainer<Scalar>(std::move(*resumed), o.resume, data, to_trainer_options(o))
                                 : train::trainer<Scalar>(std::move(net), data, to_trainer_options(o));
  const std::string name = o.net.empty() ? o.resume : o.net;
  const bool resumed_run = !o.resume.empty();
  if (resumed_run && t.start_epoch() >= o.epochs) {
    out << fmt::format(
        "the checkpoint {} is at epoch {} and --epochs is {}: nothing to train (give a larger --epochs to "
        "continue){}\n",
        o.resume, t.start_epoch(), o.epochs, o.output.empty() ? "" : "; its network is written to " + o.output);
    if (!o.output.empty()) write_file_atomic(o.output, write_network_json(t.trained_network()));
    return ok;
  }
  if (const auto& r = t.start_balance(); r && !o.json && !o.quiet)
    out << fmt::format("balanced the start (p = {}): cost {:.6g} -> {:.6g}, largest imbalance {:.3e} -> {:.3e}\n",
                       o.balance_p, r->cost_before, r->cost_after, r->max_imbalance_before, r->max_imbalance_after);
  metrics_log log(o);
  const bool tty = !o.quiet && isatty(STDERR_FILENO) != 0;
  g_interrupted.store(false);
  auto previous = std::signal(SIGINT, on_sigint);
  struct restore {
    void (*handler)(int);
    ~restore() { std::signal(SIGINT, handler); }
  } restore_signal{previous};
  const dataset& tr = data->train;
  if (!o.json && !o.quiet)
    out << fmt::format("training {} on {} ({} train, {}), {} ({}), {} epochs, batch {}, {}\n", name, tr.name, tr.size(),
                       data->test.size() > 0 ? fmt::format("{} test", data->test.size()) : std::string("no test set"),
                       o.optimizer, t.coordinates_summary(), o.epochs, o.batch, o.float64 ? "float64" : "float32");
  out.flush();  // before the progress bar on stderr
  train::trainer_callbacks cb;
  cb.cancel = &g_interrupted;
  if (tty)
    cb.on_batch = [&](const train::batch_progress& p) {
      if ((p.batch - 1) % 16 != 0 && p.batch != p.batches) return;
      const int width = 30, done = static_cast<int>(width * p.batch / p.batches);
      std::fprintf(stderr, "\repoch %zu/%zu [%s%s] %zu/%zu  loss %.4f ", p.epoch, p.epochs,
                   std::string(static_cast<std::size_t>(done), '#').c_str(),
                   std::string(static_cast<std::size_t>(width - done), '.').c_str(), p.batch, p.batches, p.mean_loss);
      std::fflush(stderr);
    };
  cb.on_epoch = [&](const train::epoch_report& r) {
    if (tty) std::fputs("\r\033[K", stderr);
    const nlohmann::json line = epoch_json(r, o);
    if (o.json) out << line.dump() << "\n";
    else if (!o.quiet) out << epoch_text(r);
    out.flush();
    log.write(r, o, line);
  };
  const train::train_result result = t.run(cb);
  if (tty && (result.cancelled || result.diverged)) std::fputs("\r\033[K", stderr);
  if (result.cancelled) {
    out << fmt::format("interrupted at epoch {}, batch {}: checkpoint written to {} (continue with --resume {})\n",
                       result.epoch + 1, result.batch, result.checkpoint, result.checkpoint);
    return interrupted;
  }
  if (!o.output.empty() && result.finite) write_file_atomic(o.output, write_network_json(t.trained_network()));
  if (result.diverged) {
    std::string kept;
    for (const std::string& f : {result.finite ? o.output : std::string(), result.checkpoint})
      if (!f.empty()) kept += (kept.empty() ? "" : " and ") + f;
    throw command_failure(
        diverged,
        fmt::format(
            "training diverged at epoch {}, step {}: {}. {}; try a smaller learning rate than --lr {}",
            result.epoch + 1, result.step, result.what,
            !result.finite ? "No finite state was kept (a parameter the loss does not see went bad "
                             "earlier in the epoch), nothing was written"
            : kept.empty()
                ? "Nothing was written (give -o or --checkpoint to keep the last finite state)"
                : fmt::format("The last state with a finite loss (epoch {} after {} batches, step "
                              "{}) is in {}",
                              result.epoch + 1, result.batch,
                              result.epoch * ((data->train.size() + o.batch - 1) / o.batch) + result.batch, kept),
            o.lr));
  }
  return ok;
}
}  // namespace

action add_train(CLI::App& app) {
  auto o = std::make_shared<train_options>();
  app.add_option("NET", o->net,
                 std::string(kNetHelp) +
                     "; with --resume it may be left out (given, it must be the "
                     "checkpoint's network)");
  app.add_option(
      "--data", o->data,
      "fashion-mnist[:DIR], idx:IMAGES,LABELS, csv:PATH, teacher:..., spirals:..., blobs:... (docs/formats.md); "
      "default fashion-mnist");
  std::vector<std::string> optimizers;
  std::string optimizer_help;
  for (const auto& info : train::optimizer_registry()) {
    optimizers.emplace_back(info.name);
    optimizer_help += fmt::format("{}{}: {}", optimizer_help.empty() ? "" : "; ", info.name, info.summary);
  }
  app.add_option("--optimizer", o->optimizer, optimizer_help + "; default sgd")->check(CLI::IsMember(optimizers));
  app.add_option(
         "--param", o->param,
         "what SGD trains: weights (default), weightnorm (w = g v/||v|| per unit, Salimans & Kingma) or gmp (each "
         "hidden unit as a radius, n-1 angles and a bias, Chen & Ge); weightnorm and gmp need --optimizer sgd and a "
         "layered MLP")
      ->check(CLI::IsMember({"weights", "weightnorm", "gmp"}));
  app.add_option(
         "--skeleton", o->skeleton,
         "G-SGD's skeleton (and --skeleton-one's): diagonal (default; the authors': on an MLP unit j's p() comes from "
         "unit j mod n(l-1), its c() goes to unit j mod n(l+1)) or first (the edges of least index)")
      ->check(CLI::IsMember({"diagonal", "first"}));
  app.add_flag(
      "--skeleton-one", o->skeleton_one,
      "set every skeleton weight (each unit's p() and c() edge) to 1 at the start, as the G-SGD authors' code does "
      "for G-SGD and for its SGD baseline; the start then has every skeleton path value 1 (with shared parameters or "
      "constant edges: every parameter that is a skeleton edge of the parameter quotient, ties and constants kept)");
  app.add_option("--balance", o->balance,
                 "synaptic balance during SGD on the weights: none (default), before (balance the start) or every=K "
                 "(balance after every K-th step; the momentum buffer is transformed with the weights)");
  app.add_option("--balance-p", o->balance_p, "the balancing cost's exponent, sum |w|^p (default 2)")
      ->check(CLI::PositiveNumber);
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
  app.add_option("--momentum", o->momentum, "momentum (default 0; G-SGD: in path-value space)")
      ->check(CLI::Range(0.0, 0.9999));
  app.add_option(
         "--weight-decay", o->weight_decay,
         "L2 weight decay (default 0; G-SGD: on the path values; weightnorm/gmp: on g, r, biases and gmp's output "
         "layer, not on directions)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o->seed, "seed for initialisation, data split and shuffling (default 1)")
      ->check(non_negative());
  app.add_option("--loss", o->loss, "ce (softmax cross-entropy) or mse; default ce for labels, mse for targets")
      ->check(CLI::IsMember({"ce", "mse"}));
  app.add_option("--init-rescale", o->init_rescale,
                 "apply a random positive rescaling of spread S (log-normal) to the initialisation")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--test-fraction", o->test_fraction, "held-out fraction for sets without a test split (default 0.2)")
      ->check(CLI::Range(0.0, 0.9));
  app.add_flag("--float64", o->float64, "train in double precision (default float32)");
  app.add_option("--log", o->log, "metrics per epoch to this file: CSV if it ends in .csv, else JSON lines");
  app.add_option("--checkpoint", o->checkpoint,
                 "write a checkpoint (network JSON + training state) here after each epoch");
  app.add_option("--resume", o->resume, "continue from a checkpoint, bit-identically (same options)");
  app.add_option(
      "-o,--output", o->output,
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
    if (o->net.empty() && o->resume.empty())
      throw invalid_argument("train needs NET (a network spec or file), or --resume CHECKPOINT to continue a run");
    train::check_trainer_options(to_trainer_options(*o));
    return o->float64 ? run_training<double>(*o, out) : run_training<float>(*o, out);
  };
}

}  // namespace scaleinv::cli
