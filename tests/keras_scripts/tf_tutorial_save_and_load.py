# Source: https://www.tensorflow.org/tutorials/keras/save_and_load
#         (tensorflow/docs, site/en/tutorials/keras/save_and_load.ipynb)
# Licence: Apache-2.0 (code samples; text CC BY 4.0)
# Changes: `import tensorflow as tf` / `from tensorflow import keras` -> `import cnnkit as keras`
#          (`tf.keras.` -> `keras.`, `tf.version.VERSION` -> `keras.__version__`);
#          mnist.load_data() replaced by small synthetic arrays; epochs 10/50/5 -> 2/2/1 and a
#          checkpoint every epoch instead of every 5; the latest checkpoint is found by file
#          name (tf.train.latest_checkpoint is TensorFlow's); the SavedModel/HDF5 and custom
#          object sections are not included; files are written in a temp folder.
"""Save and load models: ModelCheckpoint during training, weights files, whole models."""

import math
import os
import tempfile

from _local_data import mnist_load_data

import cnnkit as keras

print(keras.__version__)

# was tf.keras.datasets.mnist.load_data()
(train_images, train_labels), (test_images, test_labels) = mnist_load_data()

train_labels = train_labels[:1000]
test_labels = test_labels[:1000]

train_images = train_images[:1000].reshape(-1, 28 * 28) / 255.0
test_images = test_images[:1000].reshape(-1, 28 * 28) / 255.0

os.chdir(tempfile.mkdtemp())  # the tutorial writes relative paths


# Define a simple sequential model
def create_model():
    model = keras.Sequential(
        [
            keras.layers.Dense(512, activation="relu", input_shape=(784,)),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10),
        ]
    )

    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    return model


# Create a basic model instance
model = create_model()

# Display the model's architecture
model.summary()

checkpoint_path = "training_1/cp.weights.h5"
checkpoint_dir = os.path.dirname(checkpoint_path)

# Create a callback that saves the model's weights
cp_callback = keras.callbacks.ModelCheckpoint(
    filepath=checkpoint_path, save_weights_only=True, verbose=1
)

# Train the model with the new callback
model.fit(
    train_images,
    train_labels,
    epochs=2,  # was 10
    validation_data=(test_images, test_labels),
    callbacks=[cp_callback],
)  # Pass callback to training

# This may generate warnings related to saving the state of the optimizer.
# These warnings (and similar warnings throughout this notebook)
# are in place to discourage outdated usage, and can be ignored.

print(os.listdir(checkpoint_dir))

# Create a basic model instance
model = create_model()

# Evaluate the model
loss, acc = model.evaluate(test_images, test_labels, verbose=2)
print(f"Untrained model, accuracy: {100 * acc:5.2f}%")

# Loads the weights
model.load_weights(checkpoint_path)

# Re-evaluate the model
loss, acc = model.evaluate(test_images, test_labels, verbose=2)
print(f"Restored model, accuracy: {100 * acc:5.2f}%")

# Include the epoch in the file name (uses `str.format`)
checkpoint_path = "training_2/cp-{epoch:04d}.weights.h5"
checkpoint_dir = os.path.dirname(checkpoint_path)

batch_size = 32

# Calculate the number of batches per epoch
n_batches = len(train_images) / batch_size
n_batches = math.ceil(n_batches)  # round up the number of batches to the nearest whole integer

# Create a callback that saves the model's weights every 5 epochs
cp_callback = keras.callbacks.ModelCheckpoint(
    filepath=checkpoint_path,
    verbose=1,
    save_weights_only=True,
    save_freq=1 * n_batches,  # was 5 * n_batches
)

# Create a new model instance
model = create_model()

# Save the weights using the `checkpoint_path` format
model.save_weights(checkpoint_path.format(epoch=0))

# Train the model with the new callback
model.fit(
    train_images,
    train_labels,
    epochs=2,  # was 50
    batch_size=batch_size,
    callbacks=[cp_callback],
    validation_data=(test_images, test_labels),
    verbose=0,
)

print(os.listdir(checkpoint_dir))

latest = os.path.join(checkpoint_dir, max(os.listdir(checkpoint_dir)))
print(latest)

# Create a new model instance
model = create_model()

# Load the previously saved weights
model.load_weights(latest)

# Re-evaluate the model
loss, acc = model.evaluate(test_images, test_labels, verbose=2)
print(f"Restored model, accuracy: {100 * acc:5.2f}%")

# Save the weights
model.save_weights("./checkpoints/my_checkpoint.weights.h5")

# Create a new model instance
model = create_model()

# Restore the weights
model.load_weights("./checkpoints/my_checkpoint.weights.h5")

# Evaluate the model
loss, acc = model.evaluate(test_images, test_labels, verbose=2)
print(f"Restored model, accuracy: {100 * acc:5.2f}%")

# Create and train a new model instance.
model = create_model()
model.fit(train_images, train_labels, epochs=1)  # was 5

# Save the entire model as a `.keras` zip archive.
model.save("my_model.keras")

new_model = keras.models.load_model("my_model.keras")

# Show the model architecture
new_model.summary()

# Evaluate the restored model
loss, acc = new_model.evaluate(test_images, test_labels, verbose=2)
print(f"Restored model, accuracy: {100 * acc:5.2f}%")

print(new_model.predict(test_images).shape)
