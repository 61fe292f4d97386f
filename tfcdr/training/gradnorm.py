"""GradNormModel: a Keras model whose per-domain loss weights are learned by GradNorm."""

import math

import keras
import tensorflow as tf
from keras import ops

from tfcdr.training import distribute

LOSS_WEIGHTINGS = ("gradnorm", "equal")
INITIAL_LOSSES = ("first_epoch", "log_p")
# Weights are clipped here before renormalizing, so none reaches 0 (a zero
# weight would silence its domain for good: G_k = w_k g_k would stay 0).
MIN_WEIGHT = 1e-3


class GradNormModel(keras.Model):
    """Balances per-domain losses with GradNorm (ADC sec. III-C, eqs. 3-5).

    The total loss is `L = sum_k w_k L_k + model regularization` (eq. 3).
    The weights `w_k` are non-trainable variables with their own optimizer
    (`weight_optimizer`, Adam); the model's optimizer never sees them. Each
    training step, after the model's gradients are taken with the current
    weights:

    1. `g_k = ||dL_k / dW||_2` on the weights W of the shared layer named by
       the class attribute `gradnorm_layer` (its kernel when it has one, the
       paper's matrix W), so `G_k = w_k g_k` (w_k > 0) and `G = mean_k G_k`;
    2. loss ratios `L~_k = L_k / L_k(0)` and relative inverse rates
       `r_k = L~_k / mean_j L~_j`;
    3. `L_grad = sum_k |G_k - sg(G r_k^asymmetry)|` (eqs. 4-5; `sg` is
       stop-gradient: the target is a constant, as the paper says), one
       optimizer step on `w`, then `w <- max(w, 1e-3)` and
       `w <- p w / sum(w)`, so the weights stay positive and sum to p.

    `L_k(0)` comes from `initial_loss`:

    - "first_epoch": the mean of `L_k` over the first epoch's steps (not one
      batch, which is noisy). Until that epoch ends the rates are 1, i.e.
      the weights only equalize gradient norms (as with asymmetry 0). `fit`
      adds a callback that freezes the mean at the end of the first epoch;
      custom loops call `freeze_initial_loss()` themselves.
    - "log_p": the paper's constant `L_k(0) = log(p)`, taken from GradNorm's
      `log(C)` for C-class cross-entropy. A constant shared by all domains
      cancels in `r_k`, so `r_k = L_k / mean_j L_j` compares loss
      magnitudes, not progress: sensible when all losses share a scale
      (BPR starts at log 2 in every domain) and wrong otherwise (a domain
      whose loss is 100x larger gets the largest target norm).

    `asymmetry` (gamma) = 0 makes every `G_k` equal (the weights still
    move). `loss_weighting="equal"` skips GradNorm: `w_k = 1` always. The
    paper calls gamma = 0 "equal weights" in sec. IV-E but, by eq. 4, it is
    equal gradient norms; the two options keep them apart.

    Logs (History, TensorBoard) get, per domain, `<domain>_loss` (epoch
    mean of `L_k`), `<domain>_weight` (epoch mean of `w_k`) and, with
    GradNorm, `gradnorm_loss` (epoch mean of `L_grad`).

    A subclass sets `gradnorm_layer` (the name of a direct sublayer), and
    implements `call` and `domain_losses(x, y, y_pred, training) -> {name:
    scalar}`. It can come first in the bases of a `CDRModel` subclass
    (`class ADC(GradNormModel, CDRModel)`): the domain names are then the
    model's `domains` and its `<domain>_loss` trackers are reused.
    `sample_weight` is ignored.

    Args:
        *args: passed on to the next base class.
        loss_names: names of the domain losses; default the model's
            `domains` (set by a `CDRModel` base).
        loss_weighting: "gradnorm" or "equal".
        asymmetry: gamma of eq. 4 (>= 0); the paper uses 0.5-2.5.
        initial_loss: "first_epoch" or "log_p" (see above).
        weight_learning_rate: learning rate of the weights' Adam optimizer.
        **kwargs: passed on to the next base class.

    Reference:
        Rafailidis and Weiss, Adaptive Deep Learning of Cross-Domain Loss
        in Collaborative Filtering (ADC), sec. III-C; Chen et al., GradNorm:
        Gradient Normalization for Adaptive Loss Balancing in Deep
        Multitask Networks, ICML 2018.
    """

    gradnorm_layer = None

    def __init__(
        self,
        *args,
        loss_names=None,
        loss_weighting="gradnorm",
        asymmetry=1.5,
        initial_loss="first_epoch",
        weight_learning_rate=0.01,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if loss_weighting not in LOSS_WEIGHTINGS:
            raise ValueError(f"loss_weighting must be one of {LOSS_WEIGHTINGS}, got {loss_weighting!r}")
        if initial_loss not in INITIAL_LOSSES:
            raise ValueError(f"initial_loss must be one of {INITIAL_LOSSES}, got {initial_loss!r}")
        if asymmetry < 0:
            raise ValueError(f"asymmetry must be >= 0, got {asymmetry}")
        if weight_learning_rate <= 0:
            raise ValueError(f"weight_learning_rate must be positive, got {weight_learning_rate}")
        names = list(loss_names if loss_names is not None else getattr(self, "domains", []))
        if not names or len(set(names)) != len(names):
            raise ValueError(f"GradNormModel needs distinct loss names, got {names}")
        self.loss_names = names
        self.loss_weighting = loss_weighting
        self.asymmetry = float(asymmetry)
        self.initial_loss = initial_loss
        self.weight_learning_rate = float(weight_learning_rate)

        count = len(names)
        self.task_weights = self.add_weight(
            shape=(count,), initializer="ones", trainable=False, name="gradnorm_weights"
        )
        # Sum and count of the first epoch's losses, and whether L_k(0) is
        # fixed: variables, so a saved or restored model keeps them.
        self.initial_loss_sum = self.add_weight(
            shape=(count,), initializer="zeros", trainable=False, name="initial_loss_sum"
        )
        self.initial_loss_steps = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="initial_loss_steps"
        )
        self.initial_loss_ready = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="initial_loss_ready"
        )
        self.weight_optimizer = keras.optimizers.Adam(self.weight_learning_rate, name="gradnorm_optimizer")
        # Built now so that a reloaded model has the same optimizer state.
        self.weight_optimizer.build([self.task_weights])

        trackers = getattr(self, "domain_trackers", {})
        self.loss_trackers = {n: trackers.get(n) or keras.metrics.Mean(name=f"{n}_loss") for n in names}
        self.weight_trackers = {n: keras.metrics.Mean(name=f"{n}_weight") for n in names}
        if loss_weighting == "gradnorm":
            self.gradnorm_tracker = keras.metrics.Mean(name="gradnorm_loss")

    def domain_losses(self, x, y, y_pred, training=True):
        """Returns `{name: scalar}`, the unweighted loss L_k of each domain."""
        raise NotImplementedError

    def weighted_loss(self, losses):
        """Eq. 3, `sum_k w_k L_k`, plus the model's regularization losses."""
        stacked = ops.stack([losses[n] for n in self.loss_names])
        total = ops.sum(ops.stop_gradient(ops.convert_to_tensor(self.task_weights)) * stacked)
        if self.losses:
            total = total + distribute.scale_for_replicas(ops.sum(self.losses))
        return total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        losses = self.domain_losses(x, y, y_pred, training=training)
        self._record(losses)
        return self.weighted_loss(losses)

    def gradnorm_loss(self, weights, norms, ratios):
        """Eq. 5: `sum_k |w_k g_k - sg(mean_j(w_j g_j) r_k^gamma)|`.

        Args:
            weights: float [p] loss weights w_k.
            norms: float [p] unweighted gradient norms g_k on W.
            ratios: float [p] relative inverse training rates r_k.

        Returns:
            The scalar L_grad; its gradient reaches `weights` through the
            actual norms only (the target of eq. 4 is a constant).
        """
        actual = weights * norms
        target = ops.stop_gradient(ops.mean(actual) * ops.power(ratios, self.asymmetry))
        return ops.sum(ops.abs(actual - target))

    def freeze_initial_loss(self):
        """Fixes L_k(0) to the mean loss seen so far ("first_epoch")."""
        if float(self.initial_loss_steps.numpy()) > 0:
            self.initial_loss_ready.assign(1.0)

    def fit(self, *args, callbacks=None, **kwargs):
        callbacks = list(callbacks or [])
        if self.loss_weighting == "gradnorm" and self.initial_loss == "first_epoch":
            # First, so callbacks that snapshot weights (EarlyStopping) see
            # the frozen L_k(0).
            callbacks.insert(0, _FreezeInitialLoss())
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def train_step(self, data):
        if self.loss_weighting == "equal":
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape(persistent=True) as tape:
            y_pred = self(x, training=True)
            # After the forward pass: a lazily built layer has W only now.
            shared = self._gradnorm_variables()
            losses = self.domain_losses(x, y, y_pred, training=True)
            total = self.weighted_loss(losses)
            scaled = self.optimizer.scale_loss(total)
        gradients = tape.gradient(scaled, self.trainable_weights)
        norms = ops.stack([self._norm_on_shared(tape, losses[n], shared, n) for n in self.loss_names])
        del tape
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights, strict=True))
        # Under several replicas the L_k are shares of the global losses.
        global_losses = distribute.sum_over_replicas(ops.stack([ops.stop_gradient(losses[n]) for n in self.loss_names]))
        self._update_weights(global_losses, norms)
        self._record(losses)
        # The "loss" entry of the logs: Keras' own tracker, as its train_step does.
        self._loss_tracker.update_state(distribute.unscale_for_replicas(total))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "loss_weighting": self.loss_weighting,
                "asymmetry": self.asymmetry,
                "initial_loss": self.initial_loss,
                "weight_learning_rate": self.weight_learning_rate,
            }
        )
        return config

    def _record(self, losses):
        for name in self.loss_names:
            self.loss_trackers[name].update_state(distribute.unscale_for_replicas(losses[name]))
        for index, name in enumerate(self.loss_names):
            self.weight_trackers[name].update_state(self.task_weights[index])

    def _gradnorm_variables(self):
        if self.gradnorm_layer is None:
            raise ValueError(f"{type(self).__name__} must name its shared layer W in `gradnorm_layer`")
        layer = self.get_layer(self.gradnorm_layer)
        kernel = getattr(layer, "kernel", None) if layer.built else None
        shared = [kernel] if kernel is not None else list(layer.trainable_weights)
        if not shared:
            raise ValueError(f"layer {self.gradnorm_layer!r} has no trainable weights")
        return shared

    def _norm_on_shared(self, tape, loss, shared, name):
        gradients = tape.gradient(loss, shared)
        if all(g is None for g in gradients):
            raise ValueError(f"the loss of {name!r} does not depend on layer {self.gradnorm_layer!r}")
        # The norm of the global batch's gradient: the replicas' shares summed.
        gradients = distribute.sum_over_replicas([g for g in gradients if g is not None])
        squares = [ops.sum(ops.square(g)) for g in gradients]
        return ops.sqrt(ops.sum(ops.stack(squares)))

    def _rates(self, losses):
        """Relative inverse training rates r_k (sec. III-C)."""
        if self.initial_loss == "log_p":
            # Kept literal for fidelity although the constant cancels in r_k
            # (log(1) = 0 would not, hence the guard for a single domain).
            ratios = losses / max(math.log(len(self.loss_names)), 1.0e-12)
            return ratios / ops.maximum(ops.mean(ratios), 1e-12)
        ready = self.initial_loss_ready > 0.5
        self.initial_loss_sum.assign_add(ops.where(ready, ops.zeros_like(losses), losses))
        self.initial_loss_steps.assign_add(ops.where(ready, 0.0, 1.0))
        initial = self.initial_loss_sum / ops.maximum(self.initial_loss_steps, 1.0)
        ratios = losses / ops.maximum(initial, 1e-12)
        return ops.where(ready, ratios / ops.maximum(ops.mean(ratios), 1e-12), ops.ones_like(losses))

    def _update_weights(self, losses, norms):
        rates = self._rates(losses)
        weights = tf.identity(self.task_weights.value)
        with tf.GradientTape() as tape:
            tape.watch(weights)
            loss = self.gradnorm_loss(weights, norms, rates)
        # Every replica has the same (global) gradient and the optimizer sums
        # the replicas' gradients: each applies its 1/R share.
        gradient = distribute.scale_for_replicas(tape.gradient(loss, weights))
        self.weight_optimizer.apply_gradients([(gradient, self.task_weights)])
        clipped = ops.maximum(self.task_weights, MIN_WEIGHT)
        self.task_weights.assign(clipped * (len(self.loss_names) / ops.sum(clipped)))
        self.gradnorm_tracker.update_state(loss)


class _FreezeInitialLoss(keras.callbacks.Callback):
    """Ends the "first_epoch" window of L_k(0) when the first epoch ends."""

    def on_epoch_end(self, epoch, logs=None):
        if float(self.model.initial_loss_ready.numpy()) < 0.5:
            self.model.freeze_initial_loss()
