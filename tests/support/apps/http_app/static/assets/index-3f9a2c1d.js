console.log("kafkagram test bundle");
