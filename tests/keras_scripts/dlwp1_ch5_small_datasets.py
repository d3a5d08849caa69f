# Source: Deep Learning with Python, 1st ed., notebook 5.2 (Keras 2 style)
#         https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/5.2-using-convnets-with-small-datasets.ipynb
#         (author François Chollet; the 1st-edition notebooks of the same repository)
# Licence: MIT (Copyright (c) 2017-present François Chollet)
# Changes: `from keras import ...` / `from keras.preprocessing...` -> `from cnnkit import ...`;
#          the Kaggle download and the copying into cats_and_dogs_small are replaced by a few
#          small local JPEGs per class; image size 150 -> 60 (the network still fits),
#          batch sizes 20/32 -> 4, steps_per_epoch 100 -> 4, validation_steps 50 -> 2,
#          epochs 30/100 -> 1; plots draw off screen (Agg) and are not shown.
"""5.2 Using convnets with small datasets: ImageDataGenerator, fit_generator, Keras 2 style."""

import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _local_data import image_folder

from cnnkit import layers, models, optimizers
from cnnkit.preprocessing import image
from cnnkit.preprocessing.image import ImageDataGenerator

base_dir = os.path.join(tempfile.mkdtemp(), "cats_and_dogs_small")
train_dir = os.path.join(base_dir, "train")
validation_dir = os.path.join(base_dir, "validation")
test_dir = os.path.join(base_dir, "test")
for directory in (train_dir, validation_dir, test_dir):
    image_folder(directory, class_names=("cats", "dogs"), per_class=8, size=(70, 64))
train_cats_dir = os.path.join(train_dir, "cats")
os.chdir(base_dir)

print("total training cat images:", len(os.listdir(train_cats_dir)))

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(60, 60, 3)))  # was 150
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(128, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(128, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Flatten())
model.add(layers.Dense(512, activation="relu"))
model.add(layers.Dense(1, activation="sigmoid"))

model.summary()

model.compile(loss="binary_crossentropy", optimizer=optimizers.RMSprop(lr=1e-4), metrics=["acc"])

# All images will be rescaled by 1./255
train_datagen = ImageDataGenerator(rescale=1.0 / 255)
test_datagen = ImageDataGenerator(rescale=1.0 / 255)

train_generator = train_datagen.flow_from_directory(
    # This is the target directory
    train_dir,
    # All images will be resized to 60x60 (was 150x150)
    target_size=(60, 60),
    batch_size=4,  # was 20
    # Since we use binary_crossentropy loss, we need binary labels
    class_mode="binary",
)

validation_generator = test_datagen.flow_from_directory(
    validation_dir, target_size=(60, 60), batch_size=4, class_mode="binary"
)

for data_batch, labels_batch in train_generator:
    print("data batch shape:", data_batch.shape)
    print("labels batch shape:", labels_batch.shape)
    break

history = model.fit_generator(
    train_generator,
    steps_per_epoch=4,  # was 100
    epochs=1,  # was 30
    validation_data=validation_generator,
    validation_steps=2,  # was 50
)

model.save("cats_and_dogs_small_1.h5")

acc = history.history["acc"]
val_acc = history.history["val_acc"]
loss = history.history["loss"]
val_loss = history.history["val_loss"]

epochs = range(len(acc))

plt.plot(epochs, acc, "bo", label="Training acc")
plt.plot(epochs, val_acc, "b", label="Validation acc")
plt.title("Training and validation accuracy")
plt.legend()

plt.figure()

plt.plot(epochs, loss, "bo", label="Training loss")
plt.plot(epochs, val_loss, "b", label="Validation loss")
plt.title("Training and validation loss")
plt.legend()

datagen = ImageDataGenerator(
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
    fill_mode="nearest",
)

# This is module with image preprocessing utilities
fnames = [os.path.join(train_cats_dir, fname) for fname in os.listdir(train_cats_dir)]

# We pick one image to "augment"
img_path = fnames[3]

# Read the image and resize it
img = image.load_img(img_path, target_size=(60, 60))  # was (150, 150)

# Convert it to a Numpy array with shape (60, 60, 3)
x = image.img_to_array(img)

# Reshape it to (1, 60, 60, 3)
x = x.reshape((1,) + x.shape)

# The .flow() command below generates batches of randomly transformed images.
# It will loop indefinitely, so we need to `break` the loop at some point!
i = 0
for batch in datagen.flow(x, batch_size=1):
    plt.figure(i)
    imgplot = plt.imshow(image.array_to_img(batch[0]))
    i += 1
    if i % 4 == 0:
        break

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(60, 60, 3)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(128, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(128, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Flatten())
model.add(layers.Dropout(0.5))
model.add(layers.Dense(512, activation="relu"))
model.add(layers.Dense(1, activation="sigmoid"))

model.compile(loss="binary_crossentropy", optimizer=optimizers.RMSprop(lr=1e-4), metrics=["acc"])

train_datagen = ImageDataGenerator(
    rescale=1.0 / 255,
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
)

# Note that the validation data should not be augmented!
test_datagen = ImageDataGenerator(rescale=1.0 / 255)

train_generator = train_datagen.flow_from_directory(
    # This is the target directory
    train_dir,
    # All images will be resized to 60x60 (was 150x150)
    target_size=(60, 60),
    batch_size=4,  # was 32
    # Since we use binary_crossentropy loss, we need binary labels
    class_mode="binary",
)

validation_generator = test_datagen.flow_from_directory(
    validation_dir, target_size=(60, 60), batch_size=4, class_mode="binary"
)

history = model.fit_generator(
    train_generator,
    steps_per_epoch=4,  # was 100
    epochs=1,  # was 100
    validation_data=validation_generator,
    validation_steps=2,  # was 50
)

model.save("cats_and_dogs_small_2.h5")
